import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { project, selectorsOf } from './projection.js';
import { ENTERPRISE_USER_SCHEMA as ENTERPRISE, PATCH_OP_SCHEMA, USER_SCHEMA as USER } from './schemas.js';

const user = () => ({
  schemas: [USER],
  id: 'u-1',
  userName: 'bj',
  name: { givenName: 'B', familyName: 'J' },
  emails: [
    { value: 'w@example.com', type: 'work', primary: true },
    { value: 'h@example.com', type: 'home' },
  ],
  active: true,
  meta: { resourceType: 'User' },
});

const patch = (resource: Record<string, unknown>, Operations: unknown[]) => applyPatch(resource, parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations }));
const scimTypeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return err.scimType;
    throw err;
  }
  return 'no error';
};

describe('SCIM PATCH in memory', () => {
  it('adds, replaces and removes with and without paths, in any case of op and attribute name', () => {
    const out = patch(user(), [
      { op: 'Add', path: 'NickName', value: 'Babs' },
      { op: 'REPLACE', path: 'name.GIVENNAME', value: 'Barbara' },
      { op: 'add', path: 'emails', value: [{ value: 'o@example.com', type: 'other' }] },
      { op: 'remove', path: 'emails[type eq "HOME"]' },
      { op: 'replace', value: { title: 'Boss', 'name.middleName': 'Q' } },
      { Op: 'remove', Path: 'active' },
    ]);
    expect(out).toEqual({
      ...user(),
      nickName: 'Babs',
      name: { givenName: 'Barbara', familyName: 'J', middleName: 'Q' },
      emails: [
        { value: 'w@example.com', type: 'work', primary: true },
        { value: 'o@example.com', type: 'other' },
      ],
      title: 'Boss',
      active: undefined,
    });
    expect(out).not.toHaveProperty('active');
  });

  it("ignores the resource's own schemas, meta and id in a path-less value, as IdPs echo them; another id is still read-only", () => {
    const out = patch(user(), [{ op: 'replace', value: { schemas: [USER], id: 'u-1', meta: { resourceType: 'User' }, displayName: 'Babs' } }]);
    expect(out).toEqual({ ...user(), displayName: 'Babs' });
    expect(scimTypeOf(() => patch(user(), [{ op: 'replace', value: { id: 'u-2', displayName: 'Babs' } }]))).toBe('mutability');
  });

  it('works on the enterprise extension by URN path, path-less URN key and whole-extension path; Entra\'s manager as a bare id', () => {
    const out = patch(user(), [
      { op: 'add', path: `${ENTERPRISE}:manager`, value: 'u-2' },
      { op: 'add', value: { [ENTERPRISE]: { department: 'Sales' } } },
      { op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'u-3' },
    ]);
    expect(out[ENTERPRISE]).toEqual({ manager: { value: 'u-3' }, department: 'Sales' });
    expect(patch(out, [{ op: 'remove', path: ENTERPRISE }])).not.toHaveProperty(ENTERPRISE);
    expect(patch(out, [{ op: 'remove', path: `${ENTERPRISE}:manager` }, { op: 'remove', path: `${ENTERPRISE}:department` }])).not.toHaveProperty(ENTERPRISE);
  });

  it('takes Entra ID\'s manager: the path without the extension\'s URN, the value a list of one reference', () => {
    // "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID", Example 5.
    const out = patch(user(), [{ op: 'Add', path: 'manager', value: [{ $ref: 'http://example.com/scim/Users/u-9', value: 'u-9' }] }]);
    expect(out[ENTERPRISE]).toEqual({ manager: { $ref: 'http://example.com/scim/Users/u-9', value: 'u-9' } });
    expect(patch(out, [{ op: 'Replace', path: 'manager.value', value: 'u-8' }])[ENTERPRISE]).toEqual({ manager: { $ref: 'http://example.com/scim/Users/u-9', value: 'u-8' } });
    expect(patch(out, [{ op: 'Remove', path: 'manager' }])).not.toHaveProperty(ENTERPRISE);
    expect(patch(user(), [{ op: 'add', value: { department: 'Sales' } }])[ENTERPRISE]).toEqual({ department: 'Sales' });
    // A list of two for a single value, or of a string, is still refused; core names stay core.
    expect(scimTypeOf(() => patch(user(), [{ op: 'Add', path: 'manager', value: [{ value: 'a' }, { value: 'b' }] }]))).toBe('invalidValue');
    expect(scimTypeOf(() => patch(user(), [{ op: 'Add', path: 'name', value: [{ givenName: 'a' }] }]))).toBe('invalidValue');
    expect(patch(user(), [{ op: 'add', path: 'displayName', value: 'D' }])).not.toHaveProperty(ENTERPRISE);
  });

  it('ignores display on the elements of emails, phone numbers and addresses, as Okta sends it', () => {
    const out = patch(user(), [{ op: 'replace', path: 'emails', value: [{ value: 'n@example.com', type: 'work', display: 'n@example.com' }] }]);
    expect(out.emails).toEqual([{ value: 'n@example.com', type: 'work' }]);
    expect(scimTypeOf(() => patch(user(), [{ op: 'replace', path: 'emails', value: [{ value: 'n@example.com', label: 'x' }] }]))).toBe('invalidSyntax');
  });

  it('adds through a value filter that matches nothing by creating the element; makes a new primary the only one', () => {
    const out = patch(user(), [
      { op: 'add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555' },
      { op: 'replace', path: 'emails[type eq "home"].primary', value: true },
    ]);
    expect(out.phoneNumbers).toEqual([{ type: 'work', value: '+1 555' }]);
    expect(out.emails).toEqual([
      { value: 'w@example.com', type: 'work', primary: false },
      { value: 'h@example.com', type: 'home', primary: true },
    ]);
  });

  it('refuses malformed requests with the RFC 7644 scimType', () => {
    const parse = (body: unknown) => () => parsePatchRequest(body);
    expect(scimTypeOf(parse({ Operations: [{ op: 'add', path: 'title', value: 'x' }] }))).toBe('invalidSyntax');
    expect(scimTypeOf(parse({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'move', path: 'title' }] }))).toBe('invalidSyntax');
    expect(scimTypeOf(parse({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'emails[type eq', value: 'x' }] }))).toBe('invalidPath');
    expect(scimTypeOf(() => patch(user(), [{ op: 'remove' }]))).toBe('noTarget');
    expect(scimTypeOf(() => patch(user(), [{ op: 'replace', path: 'emails[type eq "fax"].value', value: 'x' }]))).toBe('noTarget');
    expect(scimTypeOf(() => patch(user(), [{ op: 'replace', path: 'meta.version', value: 'x' }]))).toBe('mutability');
    expect(scimTypeOf(() => patch(user(), [{ op: 'replace', path: 'urn:example:other:title', value: 'x' }]))).toBe('invalidPath');
    expect(scimTypeOf(() => patch(user(), [{ op: 'add', value: 'x' }]))).toBe('invalidValue');
    expect(scimTypeOf(() => patch(user(), [{ op: 'add', path: 'emails', value: JSON.parse('[{"value":"a@b.c","__proto__":{"x":1}}]') as unknown }]))).toBe('invalidSyntax');
    expect(scimTypeOf(() => patch(user(), [{ op: 'add', value: JSON.parse('{"__proto__":{"x":1}}') as unknown }]))).toBe('invalidPath');
  });
});

describe('attributes and excludedAttributes', () => {
  const resource = { ...user(), [ENTERPRISE]: { department: 'Sales', division: 'W' } };

  it('returns only what is asked for, with id and schemas always', () => {
    expect(project(resource, selectorsOf('USERNAME,emails.type,urn:ietf:params:scim:schemas:core:2.0:User:name.givenName'), undefined)).toEqual({
      schemas: [USER],
      id: 'u-1',
      userName: 'bj',
      emails: [{ type: 'work' }, { type: 'home' }],
      name: { givenName: 'B' },
    });
    expect(project(resource, selectorsOf(`${ENTERPRISE}:division`), undefined)).toEqual({ schemas: [USER], id: 'u-1', [ENTERPRISE]: { division: 'W' } });
  });

  it('leaves out what is excluded, but never id or schemas', () => {
    const out = project(resource, undefined, selectorsOf(`id,schemas,emails.primary,meta,${ENTERPRISE}:department`));
    expect(out).toEqual({
      ...user(),
      emails: [
        { value: 'w@example.com', type: 'work' },
        { value: 'h@example.com', type: 'home' },
      ],
      meta: undefined,
      [ENTERPRISE]: { division: 'W' },
    });
    expect(out).not.toHaveProperty('meta');
    expect(selectorsOf(' ')).toBeUndefined();
  });
});
