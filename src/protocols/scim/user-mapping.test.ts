import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../directory/index.js';
import { ScimError } from './errors.js';
import { ENTERPRISE_USER_SCHEMA as ENTERPRISE, USER_SCHEMA as USER } from './schemas.js';
import { parseFilter, printFilter } from './filter.js';
import { SCIM_EXTERNAL_ID_ISSUER, booleanOf, canonicalUser, newUserOf, qualifiedUserFilter, replacementOf, toScimUser } from './user-mapping.js';

const BASE = 'https://id.example.com/scim/v2';

const record = (overrides: Partial<UserRecord> = {}): UserRecord => ({
  identityStoreId: 'd-1234567890',
  userId: 'u-1',
  profile: {
    userName: 'bjensen',
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    displayName: 'Babs',
    emails: [{ value: 'b@example.com', type: 'work', primary: true }],
    website: 'https://babs.example.com',
    birthdate: '1970-01-01',
  },
  extensions: { 'aws:identitystore:enterprise': { department: 'Sales', manager: { value: 'u-2' } } },
  status: 'ENABLED',
  externalIds: [
    { issuer: 'https://other.example.com', id: 'o-1' },
    { issuer: SCIM_EXTERNAL_ID_ISSUER, id: 'okta-1' },
  ],
  created: { at: Date.UTC(2026, 0, 2, 3, 4, 5), by: 'x' },
  updated: { at: Date.UTC(2026, 1, 2, 3, 4, 5), by: 'x' },
  version: 4,
  ...overrides,
});

const scimError = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return { status: err.status, scimType: err.scimType };
    throw err;
  }
  throw new Error('no ScimError');
};

describe('SCIM User ↔ directory mapping', () => {
  it('maps a record to a SCIM User: the scim issuer\'s externalId, active, the enterprise extension with $ref, meta; no AWS-only attributes', () => {
    expect(toScimUser(record(), BASE)).toEqual({
      schemas: [USER, ENTERPRISE],
      id: 'u-1',
      externalId: 'okta-1',
      userName: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      displayName: 'Babs',
      emails: [{ value: 'b@example.com', type: 'work', primary: true }],
      active: true,
      [ENTERPRISE]: { department: 'Sales', manager: { value: 'u-2', $ref: `${BASE}/Users/u-2` } },
      meta: {
        resourceType: 'User',
        created: '2026-01-02T03:04:05.000Z',
        lastModified: '2026-02-02T03:04:05.000Z',
        location: `${BASE}/Users/u-1`,
        version: 'W/"4"',
      },
    });
    const plain = toScimUser(record({ extensions: undefined, externalIds: [], status: 'DISABLED' }), BASE);
    expect(plain.schemas).toEqual([USER]);
    expect(plain).not.toHaveProperty('externalId');
    expect(plain.active).toBe(false);
  });

  it('makes input canonical: names in any case, "True"/"False", empty values unassigned, read-only attributes ignored', () => {
    const user = canonicalUser({
      SCHEMAS: [USER.toUpperCase()],
      id: 'ignored',
      meta: { resourceType: 'User' },
      groups: [{ value: 'g' }],
      USERNAME: 'bjensen',
      Name: { GivenName: 'B', familyname: 'J', middleName: '' },
      Active: 'False',
      emails: [{ Value: 'b@example.com', Primary: 'TRUE' }, null],
      phoneNumbers: [],
      title: null,
      nickName: '',
      [ENTERPRISE.toLowerCase()]: { Manager: 'u-2', costCenter: '7', division: null },
    });
    expect(user).toEqual({
      userName: 'bjensen',
      name: { givenName: 'B', familyName: 'J' },
      active: false,
      emails: [{ value: 'b@example.com', primary: true }],
      [ENTERPRISE]: { manager: { value: 'u-2' }, costCenter: '7' },
    });
    // manager.$ref and manager.displayName are read-only: ignored.
    expect(canonicalUser({ schemas: [USER], [ENTERPRISE]: { manager: { value: 'u-2', $ref: 'x', displayName: 'Boss' } } })).toEqual({ [ENTERPRISE]: { manager: { value: 'u-2' } } });
  });

  it('refuses what it cannot store: unknown attributes and sub-attributes, other schemas, passwords, wrong types', () => {
    expect(scimError(() => canonicalUser({ userName: 'x' }))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => canonicalUser({ schemas: [USER, 'urn:example:custom'], userName: 'x' }))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => canonicalUser({ schemas: [USER], ims: [{ value: 'x' }] }))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => canonicalUser({ schemas: [USER], emails: [{ value: 'x', label: 'X' }] }))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => canonicalUser({ schemas: [USER], name: { givenName: 'B', display: 'X' } }))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => canonicalUser({ schemas: [USER], password: 'p' }))).toEqual({ status: 400, scimType: 'invalidValue' });
    expect(scimError(() => canonicalUser({ schemas: [USER], userName: 5 }))).toEqual({ status: 400, scimType: 'invalidValue' });
    expect(scimError(() => canonicalUser({ schemas: [USER], name: 'Barbara' }))).toEqual({ status: 400, scimType: 'invalidValue' });
    expect(scimError(() => canonicalUser({ schemas: [USER], title: ['a'] }))).toEqual({ status: 400, scimType: 'invalidValue' });
    expect(scimError(() => canonicalUser([]))).toEqual({ status: 400, scimType: 'invalidSyntax' });
    expect(scimError(() => booleanOf('yes', 'active'))).toEqual({ status: 400, scimType: 'invalidValue' });
  });

  it('ignores the display Okta echoes back on emails, phone numbers and addresses, and keeps a photo\'s', () => {
    // Okta's PUT (SCIM 2.0 protocol reference, "Update a specific User (PUT)") sends what GET showed it.
    const put = canonicalUser({
      schemas: [USER],
      userName: 'test.user@okta.local',
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work', display: 'test.user@okta.local' }],
      phoneNumbers: [{ value: '+1 555', display: '+1 555' }],
      photos: [{ value: 'https://example.com/p.png', display: 'Me' }],
    });
    expect(put).toEqual({
      userName: 'test.user@okta.local',
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      phoneNumbers: [{ value: '+1 555' }],
      photos: [{ value: 'https://example.com/p.png', display: 'Me' }],
    });
  });

  it('reads an enterprise attribute named without its URN as the extension\'s, in filters; core names and element names stay', () => {
    const qualified = (text: string) => printFilter(qualifiedUserFilter(parseFilter(text)));
    expect(qualified('id eq "u-1" and manager eq "u-2"')).toBe(`id eq "u-1" and ${ENTERPRISE}:manager eq "u-2"`);
    expect(qualified('not (Department pr) or manager.value eq "x"')).toBe(`not (${ENTERPRISE}:Department pr) or ${ENTERPRISE}:manager.value eq "x"`);
    expect(qualified('emails[type eq "work" and department eq "x"] and title pr and shoeSize pr')).toBe('emails[type eq "work" and department eq "x"] and title pr and shoeSize pr');
    expect(qualified(`${USER}:displayName pr`)).toBe(`${USER}:displayName pr`);
  });

  it('creates a directory user: externalId under the scim issuer, a displayName from the name when absent, inactive when asked', () => {
    const { user, active } = newUserOf(canonicalUser({ schemas: [USER], userName: 'bj', name: { givenName: 'B', familyName: 'J' }, externalId: 'e1', active: false }));
    expect(active).toBe(false);
    expect(user).toEqual({ profile: { userName: 'bj', name: { givenName: 'B', familyName: 'J' }, displayName: 'B J' }, externalIds: [{ issuer: SCIM_EXTERNAL_ID_ISSUER, id: 'e1' }] });
    expect(newUserOf(canonicalUser({ schemas: [USER], userName: 'bj', name: { formatted: 'Dr B' } })).user.profile.displayName).toBe('Dr B');
    expect(newUserOf(canonicalUser({ schemas: [USER], userName: 'bj' })).user.profile.displayName).toBe('bj');
    expect(newUserOf(canonicalUser({ schemas: [USER], userName: 'bj' })).active).toBe(true);
  });

  it('replaces a user: keeps AWS-only attributes and other issuers\' ids; an omitted active keeps the status; PUT keeps an omitted externalId, PATCH results do not', () => {
    const current = record({ status: 'DISABLED' });
    const put = replacementOf(current, canonicalUser({ schemas: [USER], userName: 'bjensen', name: { givenName: 'B', familyName: 'J' } }), true);
    expect(put).toEqual({
      profile: { userName: 'bjensen', name: { givenName: 'B', familyName: 'J' }, displayName: 'B J', website: 'https://babs.example.com', birthdate: '1970-01-01' },
      status: 'DISABLED',
      externalIds: current.externalIds,
    });
    const patched = replacementOf(current, canonicalUser({ schemas: [USER], userName: 'bjensen', active: true, [ENTERPRISE]: { division: 'W' } }), false);
    expect(patched.status).toBe('ENABLED');
    expect(patched.externalIds).toEqual([{ issuer: 'https://other.example.com', id: 'o-1' }]);
    // A PATCH that removed active (or set it to null) leaves a disabled user disabled.
    expect(replacementOf(current, canonicalUser({ schemas: [USER], userName: 'bjensen' }), false).status).toBe('DISABLED');
    expect(replacementOf(record({ status: 'ENABLED' }), canonicalUser({ schemas: [USER], userName: 'bjensen' }), false).status).toBe('ENABLED');
    expect(patched.extensions).toEqual({ 'aws:identitystore:enterprise': { division: 'W' } });
    // A PUT that sends externalId as null or "" clears ours, and keeps other issuers'.
    for (const cleared of [null, '']) {
      expect(replacementOf(current, canonicalUser({ schemas: [USER], userName: 'b', externalId: cleared }), true).externalIds).toEqual([{ issuer: 'https://other.example.com', id: 'o-1' }]);
    }
    expect(replacementOf(current, canonicalUser({ schemas: [USER], userName: 'b', externalId: 'new' }), true).externalIds).toEqual([
      { issuer: 'https://other.example.com', id: 'o-1' },
      { issuer: SCIM_EXTERNAL_ID_ISSUER, id: 'new' },
    ]);
  });

  it('round-trips: a record mapped to SCIM and back replaces the user with itself', () => {
    const current = record();
    const again = replacementOf(current, canonicalUser(toScimUser(current, BASE)), false);
    expect(again).toEqual({ profile: current.profile, extensions: current.extensions, status: current.status, externalIds: current.externalIds });
  });
});
