// Access control attribute sources resolve against a user's attributes as AWS documents them.

import { describe, expect, it } from 'vitest';
import { resolveAttributePath, sessionTagsFor } from './session-tags.js';

const user = {
  profile: { userName: 'ana', name: { givenName: 'Ana', familyName: 'B' }, title: 'Engineer', emails: [{ value: 'a@x.test', primary: false }, { value: 'ana@x.test', primary: true }] },
  extensions: { 'aws:identitystore:enterprise': { department: 'R&D', costCenter: '42', manager: { value: 'u-1' } } },
};

describe('ABAC attribute sources', () => {
  it('resolves profile, name, primary email and enterprise paths', () => {
    expect(resolveAttributePath(user, '${path:userName}')).toBe('ana');
    expect(resolveAttributePath(user, '${path:name.givenName}')).toBe('Ana');
    expect(resolveAttributePath(user, '${path:emails[primary eq true].value}')).toBe('ana@x.test');
    expect(resolveAttributePath(user, '${path:enterprise.department}')).toBe('R&D');
    expect(resolveAttributePath(user, '${path:enterprise.manager.value}')).toBe('u-1');
    expect(resolveAttributePath(user, '${path:enterprise.division}')).toBeUndefined();
    expect(resolveAttributePath(user, 'department')).toBeUndefined();
  });

  it('makes one tag per attribute that resolves, taking the first source that does', () => {
    expect(
      sessionTagsFor(
        [
          { Key: 'team', Value: { Source: ['${path:enterprise.division}', '${path:enterprise.department}'] } },
          { Key: 'cc', Value: { Source: ['${path:enterprise.costCenter}'] } },
          { Key: 'none', Value: { Source: ['${path:nickName}'] } },
        ],
        user,
      ),
    ).toEqual({ team: 'R&D', cc: '42' });
  });
});
