// The evaluator's invariants (fast-check) and its guards: deny monotonicity, no throw on any
// context, and wildcard matching that stays fast on hostile patterns.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluate, PolicySet, type AuthorizationRequest } from './evaluate.js';
import { PolicyCache } from './policy-cache.js';
import { parsePolicy } from './parse-policy.js';
import { compilePattern } from './wildcard.js';

const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 'iam:CreateUser', 'iam:ListUsers', 'ec2:RunInstances'];
const RESOURCES = ['arn:aws:s3:::a/x', 'arn:aws:s3:::a/y/z', 'arn:aws:s3:::b', 'arn:aws:iam::111122223333:user/u', '*'];
const KEYS = ['aws:username', 'aws:PrincipalTag/team', 'aws:SourceIp', 'aws:TagKeys', 's3:max-keys'];

const actionPattern = fc.constantFrom('*', 's3:*', 's3:Get*', 'S3:getobject', 'iam:*User*', 'iam:List?sers', 'ec2:Run*', 'ec2:?');
const resourcePattern = fc.constantFrom('*', 'arn:aws:s3:::a/*', 'arn:aws:s3:::${aws:username}/*', 'arn:aws:s3:::?', 'arn:aws:iam::*:user/*', 'arn:aws:s3:::b');
const condition = fc.record(
  {
    operator: fc.constantFrom('StringEquals', 'StringNotLike', 'StringLikeIfExists', 'NumericLessThan', 'IpAddress', 'NotIpAddress', 'Null', 'ForAllValues:StringEquals', 'ForAnyValue:StringLike', 'Bool'),
    key: fc.constantFrom(...KEYS),
    value: fc.constantFrom('alice', 'red', '10', '10.0.0.0/8', 'true', 'false', 'a*', '${aws:username}'),
  },
  { requiredKeys: ['operator', 'key', 'value'] },
);
const statement = (effect: fc.Arbitrary<'Allow' | 'Deny'>) =>
  fc.record({
    Effect: effect,
    action: fc.tuple(fc.boolean(), fc.array(actionPattern, { minLength: 1, maxLength: 3 })),
    resource: fc.tuple(fc.boolean(), fc.array(resourcePattern, { minLength: 1, maxLength: 3 })),
    conditions: fc.array(condition, { maxLength: 2 }),
  }).map(({ Effect, action, resource, conditions }) => ({
    Effect,
    [action[0] ? 'NotAction' : 'Action']: action[1],
    [resource[0] ? 'NotResource' : 'Resource']: resource[1],
    ...(conditions.length ? { Condition: Object.fromEntries(conditions.map((c) => [c.operator, { [c.key]: c.value }])) } : {}),
  }));

const contextArb = fc.dictionary(
  fc.constantFrom(...KEYS),
  fc.oneof(fc.constantFrom('alice', 'red', '5', '50', '10.1.2.3', '192.0.2.1', 'true', 'false'), fc.array(fc.constantFrom('red', 'alice', 'a1'), { maxLength: 3 })),
);
const requestArb = fc.record({ action: fc.constantFrom(...ACTIONS), resource: fc.constantFrom(...RESOURCES), context: contextArb });

function setOf(statements: object[], boundary?: object[]): PolicySet {
  const compile = (sts: object[], id: string) => {
    const parsed = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: sts }));
    if (!parsed.ok) throw new Error(parsed.errors.join(' '));
    return compilePolicy(parsed.document, { policyId: id });
  };
  return new PolicySet(statements.length ? [compile(statements, 'identity')] : [], boundary && [compile(boundary, 'boundary')]);
}

describe('evaluation properties', () => {
  it('adding a Deny statement never turns a Deny into an Allow', () => {
    fc.assert(
      fc.property(fc.array(statement(fc.constantFrom('Allow', 'Deny')), { maxLength: 5 }), statement(fc.constant('Deny')), requestArb, (sts, deny, req) => {
        const before = evaluate(setOf(sts), req);
        const after = evaluate(setOf([...sts, deny]), req);
        if (!before.allowed) expect(after.allowed).toBe(false);
        // …and never an ExplicitDeny into anything else.
        if (before.decision === 'ExplicitDeny') expect(after.decision).toBe('ExplicitDeny');
      }),
      { numRuns: 500 },
    );
  });

  it('removing an Allow statement never turns a Deny into an Allow', () => {
    fc.assert(
      fc.property(fc.array(statement(fc.constantFrom('Allow', 'Deny')), { minLength: 1, maxLength: 6 }), fc.nat(), requestArb, (sts, pick, req) => {
        const allows = sts.flatMap((s, i) => (s.Effect === 'Allow' ? [i] : []));
        fc.pre(allows.length > 0);
        const drop = allows[pick % allows.length] as number;
        const before = evaluate(setOf(sts), req);
        const after = evaluate(setOf(sts.filter((_, i) => i !== drop)), req);
        if (!before.allowed) expect(after.allowed).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a permissions boundary never widens what the identity policies allow', () => {
    fc.assert(
      fc.property(fc.array(statement(fc.constantFrom('Allow', 'Deny')), { maxLength: 4 }), fc.array(statement(fc.constantFrom('Allow', 'Deny')), { minLength: 1, maxLength: 3 }), requestArb, (sts, boundary, req) => {
        if (!evaluate(setOf(sts), req).allowed) expect(evaluate(setOf(sts, boundary), req).allowed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('evaluation never throws, whatever the request', () => {
    const set = setOf([
      { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::${aws:username}/*', Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'a*' }, NumericLessThanIfExists: { 's3:max-keys': '5' } } },
      { Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] }, DateGreaterThan: { 'aws:CurrentTime': '${aws:TokenIssueTime}' } } },
      { Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:*:*:${aws:PrincipalAccount}:*' }, Null: { 'aws:MultiFactorAuthPresent': 'false' } } },
    ]);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.dictionary(fc.constantFrom(...KEYS, 'aws:CurrentTime', 'aws:SourceArn', 'x'), fc.anything()), (action, resource, context, dict) => {
        for (const ctx of [context, dict]) {
          const d = evaluate(set, { action, resource, context: ctx } as unknown as AuthorizationRequest);
          expect(['Allow', 'ExplicitDeny', 'ImplicitDeny']).toContain(d.decision);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('decisions name the deciding statement', () => {
  it('returns the Sid and index of the allow or deny that decided, and why an implicit deny happened', () => {
    const set = setOf(
      [{ Sid: 'ReadAll', Effect: 'Allow', Action: 's3:Get*', Resource: '*' }, { Sid: 'NoSecrets', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::secrets/*' }],
      [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::public/*' }, { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::secrets/*' }],
    );
    expect(evaluate(set, { action: 's3:GetObject', resource: 'arn:aws:s3:::public/x' })).toEqual({
      decision: 'Allow',
      allowed: true,
      statement: { policyId: 'identity', sid: 'ReadAll', index: 0, effect: 'Allow' },
    });
    expect(evaluate(set, { action: 's3:GetObject', resource: 'arn:aws:s3:::secrets/x' })).toMatchObject({ decision: 'ExplicitDeny', statement: { sid: 'NoSecrets', index: 1 } });
    expect(evaluate(set, { action: 's3:GetObject', resource: 'arn:aws:s3:::private/x' })).toEqual({ decision: 'ImplicitDeny', allowed: false, reason: 'boundary' });
    expect(evaluate(set, { action: 's3:PutObject', resource: 'arn:aws:s3:::public/x' })).toEqual({ decision: 'ImplicitDeny', allowed: false, reason: 'no_allow' });
  });
});

describe('wildcard matching never hangs', () => {
  it('decides a hostile pattern against a long value in well under a second', () => {
    const pattern = compilePattern(`${'*a'.repeat(1000)}b`, { variables: false });
    const value = 'a'.repeat(2048);
    const t0 = performance.now();
    expect(pattern.matches(value)).toBe(false);
    expect(compilePattern(`${'?*'.repeat(1000)}`, { variables: false }).matches(value)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('agrees with a reference matcher on random patterns', () => {
    const reference = (p: string, v: string): boolean => {
      // Dynamic programming over (pattern, value) positions: simple, obviously right, quadratic.
      const dp = Array.from({ length: p.length + 1 }, () => new Array<boolean>(v.length + 1).fill(false));
      dp[p.length]![v.length] = true;
      for (let i = p.length; i >= 0; i--) {
        for (let j = v.length; j >= 0; j--) {
          if (i === p.length) continue;
          const c = p[i];
          if (c === '*') dp[i]![j] = dp[i + 1]![j]! || (j < v.length && dp[i]![j + 1]!);
          else dp[i]![j] = j < v.length && (c === '?' || c === v[j]) && dp[i + 1]![j + 1]!;
        }
      }
      return dp[0]![0]!;
    };
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 10 }), fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 12 }), (p, v) => {
        expect(compilePattern(p, { variables: false }).matches(v)).toBe(reference(p, v));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('policy size and depth limits', () => {
  it('refuses too big, too deep or too long policies with a clear error', () => {
    const deep = `{"Version":"2012-10-17","Statement":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(parsePolicy(deep)).toEqual({ ok: false, errors: ['The policy nests deeper than 8 levels.'] });
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Sid: 'x'.repeat(1_100_000) }] });
    expect(parsePolicy(big)).toMatchObject({ ok: false, errors: [expect.stringMatching(/at most 1048576 are allowed/)] });
    const long = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'*a'.repeat(1100)}` }] });
    expect(parsePolicy(long)).toMatchObject({ ok: false, errors: [expect.stringMatching(/longer than 2048 characters/)] });
  });
});

describe('AWS managed policies evaluate from the bundled documents', () => {
  it('ReadOnlyAccess reads but does not write; AdministratorAccess does both; an unknown ARN has no document', async () => {
    const cache = new PolicyCache();
    const readOnly = new PolicySet([(await cache.managed('arn:aws:iam::aws:policy/ReadOnlyAccess'))!]);
    const admin = new PolicySet([(await cache.managed('arn:aws:iam::aws:policy/AdministratorAccess'))!]);
    expect(evaluate(readOnly, { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }).allowed).toBe(true);
    expect(evaluate(readOnly, { action: 'identitystore:ListUsers', resource: '*' }).allowed).toBe(true);
    expect(evaluate(readOnly, { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }).allowed).toBe(false);
    expect(evaluate(readOnly, { action: 'identitystore:CreateUser', resource: '*' }).allowed).toBe(false);
    expect(evaluate(admin, { action: 'identitystore:CreateUser', resource: '*' })).toMatchObject({
      decision: 'Allow',
      statement: { policyId: 'arn:aws:iam::aws:policy/AdministratorAccess', index: 0 },
    });
    expect(await cache.managed('arn:aws:iam::aws:policy/NoSuchPolicy')).toBeUndefined();
  });
});

describe('dates in conditions', () => {
  it('reads a time without an offset as UTC, whatever the server\'s time zone', () => {
    // Compiled in each zone: the condition's value is read when the policy is compiled.
    const at = (time: string) =>
      evaluate(setOf([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T12:00:00' } } }]), {
        action: 's3:GetObject',
        resource: '*',
        context: { 'aws:CurrentTime': time },
      }).decision;
    const zone = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
        process.env.TZ = tz;
        expect([at('2030-01-01T11:59:59Z'), at('2030-01-01T13:00:00Z')], tz).toEqual(['Allow', 'ImplicitDeny']);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe('numbers and addresses in conditions', () => {
  const decide = (condition: object, context: Record<string, string>) =>
    evaluate(setOf([{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: condition }]), { action: 's3:ListBucket', resource: '*', context }).decision;

  it('reads numbers as decimals only: a hex or exponent request value matches nothing', () => {
    const atMost = { NumericLessThanEquals: { 's3:max-keys': '100' } };
    expect(decide(atMost, { 's3:max-keys': '99' })).toBe('Allow');
    expect(decide(atMost, { 's3:max-keys': '0.5' })).toBe('Allow');
    // Number() would read these as 16 and 10: under the limit, so allowed.
    expect(decide(atMost, { 's3:max-keys': '0x10' })).toBe('ImplicitDeny');
    expect(decide(atMost, { 's3:max-keys': '1e1' })).toBe('ImplicitDeny');
    expect(decide(atMost, { 's3:max-keys': ' 10' })).toBe('ImplicitDeny');
    // A policy stored before validation refused them keeps its meaning: 1e3 is still 1000.
    expect(decide({ NumericLessThanEquals: { 's3:max-keys': '1e3' } }, { 's3:max-keys': '999' })).toBe('Allow');
    expect(decide({ NumericLessThanEquals: { 's3:max-keys': '1e3' } }, { 's3:max-keys': '1001' })).toBe('ImplicitDeny');
  });

  it('matches a CIDR range and a bare address, and never an impossible range', () => {
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.9' })).toBe('Allow');
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.9' } }, { 'aws:SourceIp': '203.0.113.9' })).toBe('Allow');
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.0/33' } }, { 'aws:SourceIp': '203.0.113.9' })).toBe('ImplicitDeny');
    // Validation refuses `/24/8` in a new policy; one stored before keeps reading it as /24.
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24/8' } }, { 'aws:SourceIp': '203.0.113.9' })).toBe('Allow');
    // An IPv4-mapped IPv6 address (a gateway listening on `::`) is the IPv4 address it maps (RFC 4291 §2.5.5.2).
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '::ffff:203.0.113.5' })).toBe('Allow');
    expect(decide({ NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '::ffff:203.0.113.5' })).toBe('ImplicitDeny');
    expect(decide({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '::fffe:203.0.113.5' })).toBe('ImplicitDeny');
    expect(decide({ IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db8::1' })).toBe('Allow');
  });

  it('reads the escapes ${*}, ${?} and ${$} in StringEquals as StringEqualsIgnoreCase and StringLike read them', () => {
    for (const operator of ['StringEquals', 'StringEqualsIgnoreCase']) {
      expect(decide({ [operator]: { 's3:prefix': 'home/${*}' } }, { 's3:prefix': 'home/*' }), operator).toBe('Allow');
      expect(decide({ [operator]: { 's3:prefix': 'home/${?}${$}' } }, { 's3:prefix': 'home/?$' }), operator).toBe('Allow');
      expect(decide({ [operator]: { 's3:prefix': 'home/${*}' } }, { 's3:prefix': 'home/${*}' }), operator).toBe('ImplicitDeny');
    }
  });

  it('decides ? patterns against long values in one pass of each value, within the budget', () => {
    // A Deny on user agents that carry a 32-character token (29 of any character, a #, two digits),
    // against long request values: each pattern was compared in full at each of ~8,000 places,
    // more than a decision may spend, so this ordinary request was refused as too complex.
    const patterns = Array.from({ length: 12 }, (_, i) => `*${'?'.repeat(29)}#${String(i).padStart(2, '0')}*`);
    const set = setOf([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:UserAgent': patterns } } },
    ]);
    const values = Array.from({ length: 10 }, () => 'a'.repeat(8192));
    expect(evaluate(set, { action: 's3:GetObject', resource: '*', context: { 'aws:UserAgent': values } }).decision).toBe('Allow');
    const marked = [...values.slice(1), `${'a'.repeat(8000)}${'x'.repeat(29)}#07${'a'.repeat(100)}`];
    expect(evaluate(set, { action: 's3:GetObject', resource: '*', context: { 'aws:UserAgent': marked } })).toMatchObject({ decision: 'ExplicitDeny', statement: { index: 1 } });
  });

  it("refuses, quickly and closed, a decision whose ? patterns and values would take seconds of comparisons", () => {
    // A valid policy (27 KB) of `?`-heavy patterns, and request values of 8,192 characters: each
    // pattern compared at each place it may start, character by character.
    const patterns = Array.from({ length: 15 }, (_, i) => `*${'a?'.repeat(900)}b${i}*`);
    const set = setOf([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:UserAgent': patterns } } },
    ]);
    const values = Array.from({ length: 7 }, () => 'a'.repeat(8192));
    // Without the bound, seconds of matching and then Allow (no value ends in b<i>).
    const d = evaluate(set, { action: 's3:GetObject', resource: '*', context: { 'aws:UserAgent': values } });
    expect(d).toEqual({ decision: 'ImplicitDeny', allowed: false, reason: 'too_complex' });
    // The same policy decides as usual for an ordinary request.
    expect(evaluate(set, { action: 's3:GetObject', resource: '*', context: { 'aws:UserAgent': 'aws-cli/2.9' } }).decision).toBe('Allow');
    expect(evaluate(set, { action: 's3:GetObject', resource: '*', context: { 'aws:UserAgent': `x${'ab'.repeat(900)}b3` } }).decision).toBe('ExplicitDeny');
  });
});
