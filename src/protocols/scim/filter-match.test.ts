// The in-memory evaluator's semantics, rule by rule: the reference the SQL translation is held to.
import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import { parseFilter, printAttributePath } from './filter.js';
import type { AttributePath } from './filter.js';
import { commonAttributeCharacteristics, matches } from './filter-match.js';
import type { AttributeCharacteristics, AttributeType } from './filter-match.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const test = (filter: string, resource: Record<string, unknown>, characteristics?: AttributeCharacteristics) =>
  matches(parseFilter(filter), resource, characteristics);

/** A schema given as a table from lower-case "name.sub" to its characteristics. */
function schema(table: Record<string, { caseExact?: boolean; type?: AttributeType }>): AttributeCharacteristics {
  const at = (path: AttributePath) => table[printAttributePath({ ...path, schema: undefined }).toLowerCase()];
  return { caseExact: (path) => at(path)?.caseExact ?? false, type: (path) => at(path)?.type };
}

describe('attribute names', () => {
  it('are case-insensitive in the filter and in the resource', () => {
    expect(test('USERNAME eq "bjensen"', { userName: 'bjensen' })).toBe(true);
    expect(test('userName eq "bjensen"', { USERNAME: 'bjensen' })).toBe(true);
    expect(test('name.FAMILYNAME eq "Jensen"', { Name: { familyName: 'Jensen' } })).toBe(true);
  });

  it('resolve a schema URI to an extension object, or to the top level for a listed core schema', () => {
    const user = { schemas: [CORE_USER], userName: 'bjensen', [ENTERPRISE]: { employeeNumber: '7', manager: { value: 'm-1' } } };
    expect(test(`${CORE_USER}:userName eq "bjensen"`, user)).toBe(true);
    expect(test(`${ENTERPRISE}:employeeNumber eq "7"`, user)).toBe(true);
    expect(test(`${ENTERPRISE}:manager.value eq "m-1"`, user)).toBe(true);
    expect(test(`${ENTERPRISE}:manager eq "m-1"`, user)).toBe(true); // complex: its "value"
    expect(test('employeeNumber eq "7"', user)).toBe(false); // a bare name is the top level only
    expect(test('urn:example:other:userName eq "bjensen"', user)).toBe(false);
    expect(test(`${CORE_USER}:userName eq "bjensen"`, { userName: 'bjensen' })).toBe(false); // not listed in schemas
  });

  it('match nothing when unknown', () => {
    expect(test('nickName eq "x"', { userName: 'x' })).toBe(false);
    expect(test('nickName ne "x"', { userName: 'x' })).toBe(false);
    expect(test('nickName co ""', { userName: 'x' })).toBe(false);
    expect(test('not (nickName eq "x")', { userName: 'x' })).toBe(true);
  });
});

describe('strings', () => {
  it('compare case-insensitively unless caseExact', () => {
    expect(test('title eq "TOUR GUIDE"', { title: 'Tour Guide' })).toBe(true);
    expect(test('title eq "TOUR GUIDE"', { title: 'Tour Guide' }, schema({ title: { caseExact: true } }))).toBe(false);
    expect(test('title eq "Tour Guide"', { title: 'Tour Guide' }, schema({ title: { caseExact: true } }))).toBe(true);
  });

  it('treat id, externalId and meta.version as caseExact by default (RFC 7643 §3.1)', () => {
    expect(test('id eq "ABC"', { id: 'abc' })).toBe(false);
    expect(test('externalId eq "ABC"', { externalId: 'abc' })).toBe(false);
    expect(test('meta.version eq "W/\\"A\\""', { meta: { version: 'W/"a"' } })).toBe(false);
    expect(test('displayName eq "ABC"', { displayName: 'abc' })).toBe(true);
    expect(commonAttributeCharacteristics.caseExact({ kind: 'AttributePath', name: 'members', subAttribute: '$ref' })).toBe(true);
  });

  it.each([
    ['co "GUIDE"', true],
    ['co "x"', false],
    ['sw "tour"', true],
    ['sw "guide"', false],
    ['ew "GUIDE"', true],
    ['ew "tour"', false],
    ['gt "TOUR"', true],
    ['gt "tour guidf"', false],
    ['ge "tour guide"', true],
    ['lt "u"', true],
    ['le "TOUR GUIDE"', true],
    ['ne "tour guide"', false],
    ['ne "x"', true],
  ])('title %s on "Tour Guide" is %s', (rest, expected) => {
    expect(test(`title ${rest}`, { title: 'Tour Guide' })).toBe(expected);
  });
});

describe('dateTime', () => {
  const user = { meta: { created: '2011-05-13T04:42:34Z', lastModified: '2011-05-13T06:42:34+02:00' } };

  it('compares instants when the type is dateTime', () => {
    expect(test('meta.lastModified eq "2011-05-13T04:42:34.000Z"', user)).toBe(true);
    expect(test('meta.lastModified gt "2011-05-13T05:00:00Z"', user)).toBe(false); // lexicographically it would be
    expect(test('meta.lastModified lt "2011-05-13T05:00:00Z"', user)).toBe(true);
    expect(test('meta.created ge "2011-05-13T04:42:34"', user)).toBe(true); // no zone: UTC
    expect(test('meta.created ne "2011-05-13T04:42:35Z"', user)).toBe(true);
    expect(test('meta.created sw "2011-05"', user)).toBe(true); // co/sw/ew stay textual
  });

  it('does not match what is not a dateTime', () => {
    expect(test('meta.created gt "yesterday"', user)).toBe(false);
    expect(test('meta.created lt "2011-05-13"', user)).toBe(false);
    expect(test('meta.created gt "2000-01-01T00:00:00Z"', { meta: { created: 'garbage' } })).toBe(false);
  });

  it('compares as strings when the type is not dateTime', () => {
    expect(test('lastLogin gt "2011-05-13T05:00:00Z"', { lastLogin: '2011-05-13T06:42:34+02:00' })).toBe(true);
    expect(test('lastLogin gt "2011-05-13T05:00:00Z"', { lastLogin: '2011-05-13T06:42:34+02:00' }, schema({ lastlogin: { type: 'dateTime' } }))).toBe(false);
  });
});

describe('numbers, booleans and types', () => {
  it.each([
    ['age eq 30', true],
    ['age eq 30.0', true],
    ['age ne 30', false],
    ['age gt 29.5', true],
    ['age ge 30', true],
    ['age lt 30', false],
    ['age le 1e2', true],
    ['age co 3', false],
    ['age eq "30"', false],
    ['active eq true', true],
    ['active ne false', true],
    ['active eq "true"', false],
    ['active gt false', false],
    ['userName eq 30', false],
  ])('%s', (text, expected) => {
    expect(test(text, { age: 30, active: true, userName: '30' })).toBe(expected);
  });

  it('refuses ordering on a boolean or binary attribute as invalidFilter, before reading the resource', () => {
    const types = schema({ active: { type: 'boolean' }, x509certificates: { type: 'complex' }, 'x509certificates.value': { type: 'binary' } });
    for (const text of ['active gt true', 'not (active le false)', 'x509Certificates lt "AA=="', 'x509Certificates[value ge "AA=="]']) {
      expect(() => test(text, {}, types)).toThrow(ScimError);
      try {
        test(text, {}, types);
      } catch (e) {
        expect((e as ScimError).scimType).toBe('invalidFilter');
        expect((e as ScimError).status).toBe(400);
      }
    }
    expect(test('active eq true', { active: true }, types)).toBe(true);
  });
});

describe('presence and null', () => {
  it.each<[unknown, boolean]>([
    ['x', true],
    [0, true],
    [false, true],
    ['', false],
    [null, false],
    [[], false],
    [[null, ''], false],
    [[''], false],
    [['', 'a'], true],
    [{}, false],
    [{ value: null }, false],
    [{ value: 'a' }, true],
    [[{ type: 'work' }], true],
  ])('title pr on %j is %s; eq null is the opposite, ne null the same', (title, present) => {
    expect(test('title pr', { title })).toBe(present);
    expect(test('title eq null', { title })).toBe(!present);
    expect(test('title ne null', { title })).toBe(present);
  });

  it('is false for an absent attribute, and other operators never match null', () => {
    expect(test('title pr', {})).toBe(false);
    expect(test('title eq null', {})).toBe(true);
    expect(test('title co null', { title: 'x' })).toBe(false);
    expect(test('title gt null', { title: 'x' })).toBe(false);
  });
});

describe('multi-valued and complex attributes', () => {
  const user = {
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    name: { givenName: 'Barbara', value: 'ignored?' },
    roles: ['admin', 'Auditor'],
    groups: [{ value: 'g1', display: 'Admins' }, 'not-an-object'],
  };

  it('matches when any value matches', () => {
    expect(test('emails.value ew "jensen.org"', user)).toBe(true);
    expect(test('emails.type eq "other"', user)).toBe(false);
    expect(test('roles eq "AUDITOR"', user)).toBe(true);
    expect(test('emails.primary eq true', user)).toBe(true);
  });

  it('is existential for ne too, and not negates the whole expression', () => {
    expect(test('emails.type ne "work"', user)).toBe(true); // the home email differs
    expect(test('not (emails.type eq "work")', user)).toBe(false);
    expect(test('roles ne "admin"', { roles: ['admin'] })).toBe(false);
  });

  it('compares the "value" sub-attribute of a complex attribute named without one', () => {
    expect(test('emails co "@example.com"', user)).toBe(true);
    expect(test('emails eq "babs@jensen.org"', user)).toBe(true);
    expect(test('emails eq "home"', user)).toBe(false);
    expect(test('name eq "ignored?"', user)).toBe(true);
    expect(test('name eq "Barbara"', user)).toBe(false);
  });

  it('requires one element to satisfy the whole value filter', () => {
    expect(test('emails[type eq "work" and value co "@example.com"]', user)).toBe(true);
    expect(test('emails[type eq "home" and value co "@example.com"]', user)).toBe(false);
    expect(test('emails.type eq "home" and emails.value co "@example.com"', user)).toBe(true); // unlike the above
    expect(test('emails[not (type eq "work")]', user)).toBe(true);
    expect(test('emails[primary pr]', user)).toBe(true);
    expect(test('emails[display pr]', user)).toBe(false);
    expect(test('name[givenName sw "barb"]', user)).toBe(true); // a single complex value is one element
  });

  it('skips elements that are not objects', () => {
    expect(test('groups[value eq "g1"]', user)).toBe(true);
    expect(test('groups[not (value eq "g1")]', user)).toBe(false);
    expect(test('roles[not (value pr)]', user)).toBe(false);
  });

  it('asks the schema about the absolute path inside a value filter', () => {
    const types = schema({ 'emails.type': { caseExact: true } });
    expect(test('emails[type eq "WORK"]', user, types)).toBe(false);
    expect(test('emails[type eq "work"]', user, types)).toBe(true);
    expect(test('emails[value eq "BABS@jensen.org"]', user, types)).toBe(true);
  });
});
