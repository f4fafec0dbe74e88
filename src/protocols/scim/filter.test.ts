// The filter parser and printer on the RFC 7644 §3.4.2.2 examples, the filters Entra ID and Okta
// send, precedence, JSON escapes, error offsets and abuse limits.
import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, filterNode as f, parseFilter, printFilter } from './filter.js';
import type { Filter } from './filter.js';
import { matches } from './filter-match.js';
import { expectSyntaxErrorAt, syntaxErrorOf } from './filter.testing.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** RFC 7643 §8.2's Barbara Jensen, trimmed, plus an ims value. */
const bjensen = {
  schemas: [CORE_USER, ENTERPRISE],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen',
  userName: 'bjensen',
  name: { familyName: "O'Malley", givenName: 'Barbara' },
  title: 'Tour Guide',
  userType: 'Employee',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  ims: [{ value: 'someaimhandle', type: 'aim' }],
  meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z' },
  [ENTERPRISE]: { employeeNumber: '701984', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' } },
};
const intern = {
  schemas: [CORE_USER],
  id: 'b2c3',
  userName: 'Jsmith',
  userType: 'Intern',
  emails: [{ value: 'js@example.org', type: 'home' }],
  ims: [{ value: 'js@foo.com', type: 'xmpp' }],
  meta: { resourceType: 'User', created: '2011-05-13T04:42:34Z', lastModified: '2011-05-13T04:42:35Z' },
};

const failure = (text: string) => syntaxErrorOf(() => parseFilter(text), 'invalidFilter');
const refusesAt = (text: string, offset: number, expected: string) => expectSyntaxErrorAt(() => parseFilter(text), 'invalidFilter', offset, expected);

describe('RFC 7644 §3.4.2.2 examples', () => {
  // [filter, matches bjensen, matches intern]
  const examples: [string, boolean, boolean][] = [
    ['userName eq "bjensen"', true, false],
    ['name.familyName co "O\'Malley"', true, false],
    ['userName sw "J"', false, true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', false, true],
    ['title pr', true, false],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', false, true],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', true, true],
    ['meta.lastModified lt "2011-05-13T04:42:34Z"', false, false],
    ['meta.lastModified le "2011-05-13T04:42:34Z"', true, false],
    ['title pr and userType eq "Employee"', true, false],
    ['title pr or userType eq "Intern"', true, true],
    ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', true, false],
    ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', true, false],
    ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false, false],
    ['userType eq "Employee" and (emails.type eq "work")', true, false],
    ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', true, false],
    ['emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', true, true],
    // §3.4.2.2: "the following two expressions will evaluate to the same logical value".
    ['userName Eq "john"', false, false],
    ['Username eq "jsmith"', false, true],
  ];
  it.each(examples)('%s', (text, forBjensen, forIntern) => {
    const filter = parseFilter(text);
    expect(matches(filter, bjensen)).toBe(forBjensen);
    expect(matches(filter, intern)).toBe(forIntern);
    expect(parseFilter(printFilter(filter))).toEqual(filter);
  });

  it('builds the AST the grammar describes', () => {
    expect(parseFilter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")')).toEqual(
      f.and([
        f.compare(f.path('userType'), 'ne', 'Employee'),
        f.not(f.or([f.compare(f.path('emails'), 'co', 'example.com'), f.compare(f.path('emails', 'value'), 'co', 'example.org')])),
      ]),
    );
    expect(parseFilter('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]')).toEqual(
      f.or([
        f.valuePath(f.path('emails'), f.and([f.compare(f.path('type'), 'eq', 'work'), f.compare(f.path('value'), 'co', '@example.com')])),
        f.valuePath(f.path('ims'), f.and([f.compare(f.path('type'), 'eq', 'xmpp'), f.compare(f.path('value'), 'co', '@foo.com')])),
      ]),
    );
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"')).toEqual(
      f.compare(f.path('userName', undefined, CORE_USER), 'sw', 'J'),
    );
  });

  it('reads schema-URI paths to extension attributes and their sub-attributes', () => {
    const employee = parseFilter(`${ENTERPRISE}:employeeNumber eq "701984"`);
    expect(employee).toEqual(f.compare(f.path('employeeNumber', undefined, ENTERPRISE), 'eq', '701984'));
    expect(matches(employee, bjensen)).toBe(true);
    const manager = parseFilter(`${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`);
    expect(manager).toEqual(f.compare(f.path('manager', 'value', ENTERPRISE), 'eq', '26118915-6090-4610-87e4-49d8ca9f808d'));
    expect(matches(manager, bjensen)).toBe(true);
    expect(matches(parseFilter(`${ENTERPRISE.toUpperCase()}:EMPLOYEENUMBER eq "701984"`), bjensen)).toBe(true);
    expect(matches(employee, intern)).toBe(false);
  });
});

describe('filters identity providers send', () => {
  const entraUser = { schemas: [CORE_USER], id: '5171a35d82074e068ce2', externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', userName: 'Test_User_dfeef4c5@contoso.com', displayName: 'Test User' };
  const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'c3b3', displayName: 'Group', members: [{ value: '5171a35d82074e068ce2' }] };

  it.each([
    ['userName eq "Test_User_dfeef4c5@contoso.com"', entraUser, true],
    ['userName eq "test_user_DFEEF4C5@contoso.com"', entraUser, true], // userName is caseExact false
    ['externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"', entraUser, true],
    ['externalId eq "8AA1A0C0-C4C3-4BC0-B4A5-2EF676900159"', entraUser, false], // externalId is caseExact
    ['id eq "5171a35d82074e068ce2"', entraUser, true],
    ['displayName eq "Group"', group, true],
    ['displayName eq "Group" and members[value eq "5171a35d82074e068ce2"]', group, true],
    ['members[value eq "someone-else"]', group, false],
    ['userName eq "a@b.c"', { userName: 'A@B.C' }, true],
    ['userName eq "x" ', { userName: 'x' }, true], // Okta: a trailing space
    ['  userName  eq  "x"  ', { userName: 'x' }, true],
    ['userName eq "x" and active eq true', { userName: 'x', active: true }, true],
    ['active eq false', { active: true }, false],
  ] as const)('%s', (text, resource, expected) => {
    expect(matches(parseFilter(text), resource)).toBe(expected);
  });

  // Entra ID's tutorial: a user unique by work email is looked up by `emails[type eq "work"].value eq`.
  it('reads emails[type eq "work"].value eq "x" as one email that is both work and x', () => {
    const parsed = parseFilter('emails[type eq "work"].value eq "A@contoso.com"');
    expect(parsed).toEqual(f.valuePath(f.path('emails'), f.and([f.compare(f.path('type'), 'eq', 'work'), f.compare(f.path('value'), 'eq', 'A@contoso.com')])));
    expect(parseFilter(printFilter(parsed))).toEqual(parsed);
    const both = { emails: [{ type: 'work', value: 'a@contoso.com' }] };
    const split = { emails: [{ type: 'work', value: 'b@contoso.com' }, { type: 'home', value: 'a@contoso.com' }] };
    expect(matches(parsed, both)).toBe(true);
    expect(matches(parsed, split)).toBe(false);
    const either = parseFilter('emails[type eq "work" or type eq "home"].value pr and userName pr');
    expect(either).toEqual(
      f.and([
        f.valuePath(f.path('emails'), f.and([f.or([f.compare(f.path('type'), 'eq', 'work'), f.compare(f.path('type'), 'eq', 'home')]), f.present(f.path('value'))])),
        f.present(f.path('userName')),
      ]),
    );
  });
});

describe('precedence and grouping', () => {
  const a = f.present(f.path('a'));
  const b = f.present(f.path('b'));
  const c = f.present(f.path('c'));
  const d = f.present(f.path('d'));

  it.each<[string, Filter]>([
    ['a pr or b pr and c pr', f.or([a, f.and([b, c])])],
    ['a pr and b pr or c pr', f.or([f.and([a, b]), c])],
    ['a pr and b pr or c pr and d pr', f.or([f.and([a, b]), f.and([c, d])])],
    ['(a pr or b pr) and c pr', f.and([f.or([a, b]), c])],
    ['a pr and b pr and c pr', f.and([a, b, c])],
    ['(a pr and b pr) and c pr', f.and([f.and([a, b]), c])],
    ['not (a pr) and b pr', f.and([f.not(a), b])],
    ['not(a pr)', f.not(a)],
    ['NOT ( a pr )', f.not(a)],
    ['((a pr))', a],
    ['a pr AND b pr Or c pr', f.or([f.and([a, b]), c])],
    ['emails[not (type eq "work") or (primary eq true)]', f.valuePath(f.path('emails'), f.or([f.not(f.compare(f.path('type'), 'eq', 'work')), f.compare(f.path('primary'), 'eq', true)]))],
  ])('%s', (text, expected) => {
    const parsed = parseFilter(text);
    expect(parsed).toEqual(expected);
    expect(parseFilter(printFilter(parsed))).toEqual(expected);
  });

  it('evaluates "and" before "or"', () => {
    expect(matches(parseFilter('a pr or b pr and c pr'), { a: 1 })).toBe(true);
    expect(matches(parseFilter('(a pr or b pr) and c pr'), { a: 1 })).toBe(false);
  });

  it('reads keywords and operators as attribute names where the grammar puts a name', () => {
    expect(parseFilter('not pr')).toEqual(f.present(f.path('not')));
    expect(parseFilter('and eq 1 and or pr')).toEqual(f.and([f.compare(f.path('and'), 'eq', 1), f.present(f.path('or'))]));
    expect(parseFilter('pr pr')).toEqual(f.present(f.path('pr')));
    expect(parseFilter('notice pr or order pr')).toEqual(f.or([f.present(f.path('notice')), f.present(f.path('order'))]));
  });

  it('prints the canonical form', () => {
    expect(printFilter(parseFilter('  UserName   EQ "x"   AND (title PR OR not(a Gt 2))'))).toBe('UserName eq "x" and (title pr or not (a gt 2))');
  });
});

describe('JSON literals', () => {
  it.each<[string, unknown]>([
    ['"plain"', 'plain'],
    ['""', ''],
    [String.raw`"q\"uote"`, 'q"uote'],
    [String.raw`"back\\slash"`, 'back\\slash'],
    [String.raw`"a\\"`, 'a\\'],
    [String.raw`"\/\b\f\n\r\t"`, '/\b\f\n\r\t'],
    [String.raw`"\u0041\u00e9\uD83D\uDE00"`, 'Aé😀'],
    ['"é😀 and ) or ] ("', 'é😀 and ) or ] ('],
    ['0', 0],
    ['-12', -12],
    ['3.25', 3.25],
    ['1e3', 1000],
    ['-1.5E-2', -0.015],
    ['true', true],
    ['false', false],
    ['null', null],
  ])('%s', (literal, value) => {
    expect(parseFilter(`x eq ${literal}`)).toEqual(f.compare(f.path('x'), 'eq', value as never));
  });
});

describe('malformed filters', () => {
  it.each([
    // JSON literals
    ['x eq "open', 10, 'a closing quote for the string opened at offset 5'],
    ['x eq "bad \\x escape"', 10, 'a JSON escape'],
    ['x eq "\\u12G4"', 8, 'four hex digits'],
    ['x eq "tab\there"', 9, 'an escaped control character'],
    ["x eq 'single'", 5, 'a value'],
    ['x eq True', 5, 'a value'],
    ['x eq NULL', 5, 'a value'],
    ['x eq 01', 5, 'a value'],
    ['x eq 1.', 5, 'a value'],
    ['x eq .5', 5, 'a value'],
    ['x eq +1', 5, 'a value'],
    ['x eq 1e999', 5, 'a number within the range'],
    ['x eq bare', 5, 'a value'],
    ['x eq', 4, 'a space then a value'],
    ['x eq ', 5, 'a value'],
    // the rest of the grammar
    ['', 0, 'an attribute path'],
    ['   ', 3, 'an attribute path'],
    ['userName', 8, 'a space then an operator'],
    ['userName eq', 11, 'a space then a value'],
    ['userName equals "x"', 9, 'an operator'],
    ['userName = "x"', 9, 'an operator'],
    ['userName eq"x"', 11, 'a space then a value'],
    ['userNameeq "x"', 11, 'an operator'],
    ['title pr title pr', 9, '"and", "or" or the end'],
    ['a eq "x"b', 8, '"and", "or" or the end'],
    ['title pr and', 12, 'a space then a filter after "and"'],
    ['title pr or ', 12, 'an attribute path'],
    ['title pr and(b pr)', 12, 'a space then a filter after "and"'],
    ['(title pr', 9, '"and", "or" or ")"'],
    ['title pr)', 8, '"and", "or" or the end'],
    ['()', 1, 'an attribute path'],
    ['not title pr', 4, 'an operator'],
    ['not (title pr', 13, '"and", "or" or ")"'],
    ['emails[type eq "work"', 21, '"and", "or" or "]"'],
    ['emails[]', 7, 'a sub-attribute name'],
    ['emails[type eq "work"].value', 28, 'a space then an operator'],
    ['emails[type eq "work"].', 23, 'a sub-attribute name'],
    ['emails[type eq "work"].value.x eq "a"', 28, 'a sub-attribute name'],
    ['emails[type eq "work"] pr', 23, '"and", "or" or the end'],
    ['emails[type[value eq 1]]', 11, 'value filters do not nest'],
    ['emails[type.sub eq 1]', 11, 'a bare sub-attribute name'],
    [`emails[${ENTERPRISE}:x eq 1]`, 7, 'no schema URI'],
    ['name.givenName[value eq 1]', 14, 'a sub-attribute cannot have a value filter'],
    ['a.b.c pr', 3, 'at most one sub-attribute'],
    ['1abc pr', 0, 'an attribute name'],
    ['na$me pr', 2, 'an attribute name'],
    ['name. pr', 5, 'an attribute name'],
    ['.name pr', 0, 'an attribute name'],
    [':name pr', 0, 'a schema URI'],
    ['urn:name pr', 3, 'a schema URI'],
    ['urn:a b:name pr', 3, 'a schema URI'],
    ['urn:ietf:params:scim:schemas:core:2.0:User: pr', 43, 'an attribute name'],
    ['urn:x:2.0 pr', 6, 'an attribute name'],
    ['urn:x^y:name pr', 5, 'a schema URI'],
  ])('%j fails at offset %i', refusesAt);

  it('says where and what in the detail', () => {
    const error = failure('userName eq "x" and (title pr or');
    expect(error.detail).toBe('Invalid filter at offset 32: expected a space then a filter after "or", found the end.');
    expect(error.toBody()).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidFilter', detail: error.detail });
    expect(failure('userName foo "x"').detail).toBe(
      'Invalid filter at offset 9: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found "foo".',
    );
  });

  it('refuses what is not a string', () => {
    expect(failure(undefined as unknown as string).scimType).toBe('invalidFilter');
  });
});

describe('abuse limits', () => {
  const nested = (depth: number, open: string, close: string) => `${open.repeat(depth)}a pr${close.repeat(depth)}`;

  it(`accepts ${MAX_FILTER_DEPTH} levels of nesting and refuses one more`, () => {
    expect(parseFilter(nested(MAX_FILTER_DEPTH, '(', ')'))).toEqual(f.present(f.path('a')));
    const error = failure(nested(MAX_FILTER_DEPTH + 1, '(', ')'));
    expect(error.offset).toBe(MAX_FILTER_DEPTH);
    expect(error.expected).toContain(`at most ${MAX_FILTER_DEPTH} levels`);
    expect(failure(nested(MAX_FILTER_DEPTH + 1, 'not (', ')')).expected).toContain('levels of nesting');
    expect(failure(`emails[${nested(MAX_FILTER_DEPTH, '(', ')')}]`).expected).toContain('levels of nesting');
  });

  it('never overflows the stack, whatever the depth', () => {
    for (const depth of [1000, 2040]) {
      expect(failure(nested(depth, '(', ')')).scimType).toBe('invalidFilter');
      expect(failure('not ('.repeat(depth / 5)).scimType).toBe('invalidFilter');
    }
    expect(failure('('.repeat(4096)).scimType).toBe('invalidFilter');
  });

  it(`accepts ${MAX_FILTER_LENGTH} characters and refuses one more`, () => {
    const padded = (length: number) => `userName eq "${'x'.repeat(length - 14)}"`;
    expect(padded(MAX_FILTER_LENGTH)).toHaveLength(MAX_FILTER_LENGTH);
    expect(parseFilter(padded(MAX_FILTER_LENGTH)).kind).toBe('Comparison');
    const error = failure(padded(MAX_FILTER_LENGTH + 1));
    expect(error.offset).toBe(MAX_FILTER_LENGTH);
    expect(error.detail).toContain(`${MAX_FILTER_LENGTH + 1} characters long`);
  });

  it('parses a long flat chain without recursion', () => {
    const chain = Array.from({ length: 300 }, (_, i) => `a${i} pr`).join(' and ');
    const parsed = parseFilter(chain);
    expect(parsed.kind === 'And' && parsed.filters.length).toBe(300);
    expect(matches(parsed, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`A${i}`, i])))).toBe(true);
  });
});
