// PATCH paths (RFC 7644 §3.5.2): the RFC's and Entra ID's paths, errors with offsets, and
// properties: printed paths parse back, and broken ones fail as invalidPath and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILTER_DEPTH, filterNode as f } from './filter.js';
import { parsePath, patchPath, printPath } from './path.js';
import type { PatchPath } from './path.js';
import { arbitraryAttributeName, arbitraryPath, arbitraryValueFilter, expectParsedOrRefused, expectSyntaxErrorAt, syntaxErrorOf } from './filter.testing.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const pathFailure = (text: string) => syntaxErrorOf(() => parsePath(text), 'invalidPath');

describe('RFC 7644 §3.5.2 and Entra ID paths', () => {
  const member = '2819c223-7f76-453a-919d-413861904646';
  it.each<[string, PatchPath]>([
    ['members', patchPath(f.path('members'))],
    ['name.familyName', patchPath(f.path('name', 'familyName'))],
    ['addresses[type eq "work"]', patchPath(f.path('addresses'), f.compare(f.path('type'), 'eq', 'work'))],
    [`members[value eq "${member}"]`, patchPath(f.path('members'), f.compare(f.path('value'), 'eq', member))],
    [`members[value eq "${member}"].displayName`, patchPath(f.path('members', 'displayName'), f.compare(f.path('value'), 'eq', member))],
    ['emails[type eq "work" and value ew "example.com"]', patchPath(f.path('emails'), f.and([f.compare(f.path('type'), 'eq', 'work'), f.compare(f.path('value'), 'ew', 'example.com')]))],
    ['emails[type eq "work"].value', patchPath(f.path('emails', 'value'), f.compare(f.path('type'), 'eq', 'work'))],
    ['addresses[type eq "work"].streetAddress', patchPath(f.path('addresses', 'streetAddress'), f.compare(f.path('type'), 'eq', 'work'))],
    [`${ENTERPRISE}:employeeNumber`, patchPath(f.path('employeeNumber', undefined, ENTERPRISE))],
    [`${ENTERPRISE}:manager`, patchPath(f.path('manager', undefined, ENTERPRISE))],
    [`${ENTERPRISE}:manager.value`, patchPath(f.path('manager', 'value', ENTERPRISE))],
    ['urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].display', patchPath(f.path('emails', 'display', 'urn:ietf:params:scim:schemas:core:2.0:User'), f.compare(f.path('type'), 'eq', 'work'))],
    ['members[not (value eq "a") and ( value sw "b" )]', patchPath(f.path('members'), f.and([f.not(f.compare(f.path('value'), 'eq', 'a')), f.compare(f.path('value'), 'sw', 'b')]))],
    ['members[value eq "a" or value eq "b"]', patchPath(f.path('members'), f.or([f.compare(f.path('value'), 'eq', 'a'), f.compare(f.path('value'), 'eq', 'b')]))],
    ['Members[Value EQ "a"].$ref', patchPath(f.path('Members', '$ref'), f.compare(f.path('Value'), 'eq', 'a'))],
    ['active', patchPath(f.path('active'))],
  ])('%s', (text, expected) => {
    const parsed = parsePath(text);
    expect(parsed).toEqual(expected);
    expect(parsePath(printPath(parsed))).toEqual(expected);
  });

  it('prints the canonical form', () => {
    expect(printPath(parsePath('emails[ TYPE Eq "work"  AND primary eq true ].value'))).toBe('emails[TYPE eq "work" and primary eq true].value');
  });
});

describe('malformed paths', () => {
  it.each([
    ['', 0, 'an attribute path'],
    [' members', 0, 'an attribute path'],
    ['members ', 7, 'the end of the path'],
    ['members[value eq "a"] ', 21, 'the end of the path'],
    ['name.givenName.x', 14, 'at most one sub-attribute'],
    ['name.givenName[value eq "a"]', 14, 'a sub-attribute cannot have a value filter'],
    ['members[value eq "a"', 20, '"and", "or" or "]"'],
    ['members[]', 8, 'a sub-attribute name'],
    ['members[value eq "a"].', 22, 'a sub-attribute name'],
    ['members[value eq "a"].display.x', 29, 'a sub-attribute name'],
    ['members[value eq "a"]display', 21, '".subAttribute" after "]"'],
    ['members[value eq "a"][type eq "b"]', 21, '".subAttribute" after "]"'],
    ['members[value eq "a"].x[type eq "b"]', 23, 'the end of the path after the sub-attribute'],
    ['members[value[type eq "b"]]', 13, 'value filters do not nest'],
    ['members[value]', 13, 'a space then an operator'],
    ['members[value eq a]', 17, 'a value'],
    ['members[value eq "a"]]', 21, '".subAttribute" after "]"'],
    ['emails.value[type eq "work"]', 12, 'a sub-attribute cannot have a value filter'],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:', 59, 'an attribute name'],
    ['1members', 0, 'an attribute name'],
    ['members eq "x"', 7, 'the end of the path'],
    ['(members)', 0, 'an attribute path'],
  ])('%j fails at offset %i', (text, offset, expected) => {
    expectSyntaxErrorAt(() => parsePath(text), 'invalidPath', offset, expected);
    expect(pathFailure(text).detail).toMatch(/^Invalid path at offset \d+: expected /);
  });

  it('applies the nesting and length limits', () => {
    const deep = `members[${'('.repeat(MAX_FILTER_DEPTH)}value pr${')'.repeat(MAX_FILTER_DEPTH)}]`;
    expect(pathFailure(deep).expected).toContain('levels of nesting');
    expect(pathFailure(`members[${'('.repeat(3000)}`).expected).toContain('levels of nesting');
    expect(pathFailure(`members[value eq "${'x'.repeat(5000)}"]`).expected).toContain('at most 4096 characters');
  });
});

describe('properties', () => {
  const arbitraryPatchPath = fc.oneof(
    arbitraryPath.map((attribute) => patchPath(attribute)),
    fc
      .tuple(arbitraryPath, arbitraryValueFilter, fc.option(arbitraryAttributeName, { nil: undefined }))
      .map(([attribute, filter, sub]) => patchPath(f.path(attribute.name, sub, attribute.schema), filter)),
  );

  it('parses every printed path back to the same node', () => {
    fc.assert(
      fc.property(arbitraryPatchPath, (path) => {
        expect(parsePath(printPath(path))).toEqual(path);
      }),
      { numRuns: 300 },
    );
  });

  it('fails a broken path with invalidPath, never another error', () => {
    const broken = fc.oneof(
      // an unterminated bracket, a stray character, or a space at either end
      arbitraryPatchPath.filter((p) => p.filter !== undefined).map((p) => printPath(p).replace(/\][^\]]*$/, '')),
      fc.tuple(arbitraryPatchPath, fc.constantFrom(' ', ']', '[', '(', ')', '"', '..', '.1', ':', '[x pr')).map(([p, s]) => printPath(p) + s),
      arbitraryPatchPath.map((p) => ` ${printPath(p)}`),
    );
    fc.assert(
      fc.property(broken, (text) => {
        pathFailure(text);
      }),
      { numRuns: 300 },
    );
  });

  it('answers any string with a path or invalidPath', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.stringMatching(/^[a-z.[\]" :()$]{0,30}$/)), (text) => {
        expectParsedOrRefused(() => parsePath(text), 'invalidPath');
      }),
      { numRuns: 400 },
    );
  });
});
