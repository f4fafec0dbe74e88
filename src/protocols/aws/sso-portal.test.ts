// GetRoleCredentials' hand-written query check never accepts what the schema refuses, and gives back
// what the schema would; an ordinary query passes it.

import { describe, expect, it } from 'vitest';
import { getRoleCredentialsQuery, plainRoleCredentialsQuery } from './sso-portal.js';

describe('GetRoleCredentials query check', () => {
  it('vouches only for queries the schema accepts, giving back what the schema gives', () => {
    const ok = { role_name: 'ReadOnly', account_id: '123456789012' };
    const queries: unknown[] = [ok, Object.assign(Object.create(null) as object, ok), {}, null, 'q', { ...ok, extra: '1' }, { role_name: 'ReadOnly' }];
    for (const role of ['', 'r', 'r'.repeat(32), 'r'.repeat(33), ['a', 'b'], 1]) queries.push({ ...ok, role_name: role });
    for (const account of ['12345678901', '1234567890123', '12345678901a', '１２３４５６７８９０１２', ['123456789012'], '']) queries.push({ ...ok, account_id: account });
    let vouched = 0;
    for (const q of queries) {
      const fast = plainRoleCredentialsQuery(q);
      if (fast === undefined) continue;
      vouched++;
      const schema = getRoleCredentialsQuery.safeParse(q);
      expect(schema.success, JSON.stringify(q)).toBe(true);
      expect(fast).toEqual(schema.data);
    }
    expect(vouched).toBe(4);
  });
});
