// Deleting a leaked SCIM token while whoever holds it keeps writing with it: the delete must not
// wait for the writes to stop. On PostgreSQL each write holds the token's row FOR KEY SHARE until
// it commits; a DELETE waits for every holder, and a holder that comes while it waits does not
// queue behind it, so overlapping writes kept the token alive as long as they kept coming.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_SCHEMA as USER } from '../../src/protocols/scim/schemas.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { suffix } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('deleting a SCIM token under load on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(() => server?.close());

  it('the delete finishes at once while the token keeps writing, and no write commits after it', async () => {
    const admin = systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);
    const leaked = await server.reg.scimTokens.createToken(admin);
    const prefix = `load-${suffix()}`;
    let stop = false;
    let accepted = 0;
    let i = 0;
    // Whoever holds the leaked token: eight writes at any time, one after another on each connection.
    const writer = async () => {
      while (!stop) {
        const res = await fetch(`${server.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${leaked.token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: [USER], userName: `${prefix}-${i++}`, name: { givenName: 'L', familyName: 'T' } }),
        });
        await res.arrayBuffer();
        if (res.status === 201) accepted++;
        else if (res.status === 401) break;
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    await new Promise((r) => setTimeout(r, 500));
    expect(accepted).toBeGreaterThan(0);
    const started = performance.now();
    const created = async () =>
      Number((await server.reg.database.db.selectFrom('directory_users').select((eb) => eb.fn.countAll().as('n')).where('user_name', 'like', `${prefix}%`).executeTakeFirstOrThrow()).n);
    let atDelete = -1;
    const deleted = server.reg.scimTokens.deleteToken(admin, leaked.tokenId).then(async () => {
      const took = performance.now() - started;
      atDelete = await created();
      return took;
    });
    // The administrator waits up to five seconds; the writes go on meanwhile.
    const tookMs = await Promise.race([deleted, new Promise<number>((r) => setTimeout(() => r(Infinity), 5000))]);
    stop = true;
    await Promise.all(writers);
    await deleted;
    expect(tookMs).toBeLessThan(1000);
    // Nothing written with the token once its delete has committed.
    expect(await created()).toBe(atDelete);
  });
});
