// Random PATCH requests and User bodies, hostile ones included, against the whole in-memory path a
// request takes (parse, apply, map, the directory's attribute rules): each is applied or refused
// with a 400 the client can read, never another error (which the API would answer with a 500).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../directory/index.js';
import { isDomainError } from '../../shared/errors.js';
import { ScimError } from './errors.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { ENTERPRISE_USER_SCHEMA as ENTERPRISE, PATCH_OP_SCHEMA, USER_SCHEMA as USER } from './schemas.js';
import { canonicalUser, replacementOf, toScimUser } from './user-mapping.js';
import { checkUserProfile } from '../../directory/attributes.js';

const current: UserRecord = {
  identityStoreId: 'd-1234567890',
  userId: 'u-1',
  profile: {
    userName: 'bj',
    name: { givenName: 'B', familyName: 'J' },
    displayName: 'B J',
    emails: [
      { value: 'w@example.com', type: 'work', primary: true },
      { value: 'h@example.com', type: 'home' },
    ],
  },
  extensions: { 'aws:identitystore:enterprise': { department: 'Sales' } },
  status: 'ENABLED',
  externalIds: [{ issuer: 'scim', id: 'e-1' }],
  created: { at: 0, by: 'x' },
  updated: { at: 0, by: 'x' },
  version: 1,
};

const paths = fc.oneof(
  fc.constantFrom(
    'userName',
    'TITLE',
    'name',
    'name.givenName',
    'emails',
    'emails.value',
    'emails[type eq "work"]',
    'emails[type eq "work"].value',
    'emails[type eq "fax" and primary eq true].type',
    'emails[not (type pr)]',
    'phoneNumbers[type eq "mobile"].value',
    'addresses[type eq "work"].locality',
    'active',
    'id',
    'meta.version',
    'groups',
    ENTERPRISE,
    `${ENTERPRISE}:manager`,
    `${ENTERPRISE}:manager.value`,
    `${ENTERPRISE}:department`,
    `${USER}:nickName`,
    'urn:example:other:title',
    'emails[',
    'emails[type eq "work"].value.x',
    'name.givenName[x eq 1]',
    '',
  ),
  fc.string({ maxLength: 30 }),
);

const values = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('True', 'False', '', null, 'x@example.com', { value: 'm-1' }, [{ value: 'a@b.c', type: 'work', primary: 'True' }], { givenName: 'G', familyName: 'F' }),
);

const operation = fc.record(
  {
    op: fc.oneof(fc.constantFrom('add', 'Add', 'REPLACE', 'replace', 'remove', 'Remove'), fc.string({ maxLength: 8 })),
    path: paths,
    value: values,
  },
  { requiredKeys: [] },
);

/** What the API answers: the user it would store, or the 400 it would refuse with. */
function outcome(run: () => unknown): 'applied' | 'refused' {
  try {
    run();
    return 'applied';
  } catch (err) {
    const clientError = (err instanceof ScimError && err.status === 400) || (isDomainError(err) && err.kind === 'invalid_argument');
    if (!clientError) throw err;
    return 'refused';
  }
}

describe('PATCH and User bodies never fail but with a 400', () => {
  it('applies or refuses random PATCH requests', () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 1, maxLength: 5 }), (operations) => {
        outcome(() => {
          const parsed = parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: operations });
          const next = replacementOf(current, canonicalUser(applyPatch(toScimUser(current, 'https://x/scim/v2'), parsed)), false);
          checkUserProfile(next.profile);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('maps or refuses random User bodies', () => {
    const body = fc.dictionary(fc.oneof(fc.constantFrom('schemas', 'userName', 'name', 'emails', 'active', 'externalId', ENTERPRISE, 'groups', 'meta'), fc.string({ maxLength: 10 })), values, {
      maxKeys: 6,
    });
    fc.assert(
      fc.property(body, fc.boolean(), (b, withSchemas) => {
        outcome(() => replacementOf(current, canonicalUser(withSchemas ? { ...b, schemas: [USER] } : b), true));
      }),
      { numRuns: 2000 },
    );
  });

  it('applies a well-formed Entra ID request', () => {
    expect(
      outcome(() =>
        applyPatch(toScimUser(current, 'https://x/scim/v2'), parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })),
      ),
    ).toBe('applied');
  });
});
