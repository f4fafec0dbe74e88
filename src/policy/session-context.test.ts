// A role session's condition keys: who, and when to the millisecond, as a DateLessThan on
// aws:CurrentTime or a NumericLessThan on aws:EpochTime reads them.

import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluatePrepared, PolicySet } from './evaluate.js';
import { parsePolicy } from './parse-policy.js';
import { identityCenterRoleArn, isoTime, sessionContext } from './policy-service.js';

/** One identity policy of these statements, compiled. */
function policySetOf(statements: object[]): PolicySet {
  const parsed = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
  if (!parsed.ok) throw new Error(parsed.errors.join(' '));
  return new PolicySet([compilePolicy(parsed.document, { policyId: 'p' })]);
}

describe('session condition keys', () => {
  it('gives aws:CurrentTime exactly as toISOString does, across milliseconds, seconds and years', () => {
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, -1, -999, -1000, -1001, Date.UTC(2026, 10, 21, 23, 59, 59, 999), Date.UTC(2026, 10, 22), 253402300799999, 253402300800000];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2026, 0, 1) + 3_000; t += 7) times.push(t);
    times.push(1.5, Date.now() + 0.25);
    for (const t of times) {
      expect(isoTime(t), String(t)).toEqual({ iso: new Date(t).toISOString(), epoch: String(Math.floor(t / 1000)) });
    }
  });

  it('puts the principal, its tags and the time under lower-cased keys', () => {
    const now = Date.UTC(2026, 10, 21, 12, 0, 0, 42);
    const keys = sessionContext({ userId: 'u-1', userName: 'ana', accountId: '111122223333', principalId: 'AROAEXAMPLE:ana', tags: { Team: 'red' } }, now);
    expect(Object.fromEntries(keys)).toEqual({
      'aws:username': ['ana'],
      'aws:userid': ['AROAEXAMPLE:ana'],
      'aws:principalaccount': ['111122223333'],
      'aws:principaltype': ['AssumedRole'],
      'aws:currenttime': ['2026-11-21T12:00:00.042Z'],
      'aws:epochtime': [String(Math.floor(now / 1000))],
      'aws:principaltag/team': ['red'],
      'aws:principaltagkeys': ['Team'],
      'aws:principalisawsservice': ['false'],
    });
  });

  it("gives aws:PrincipalArn as the provisioned role's ARN, with the instance's region in its path but for us-east-1", () => {
    expect(identityCenterRoleArn('111122223333', 'AWSReservedSSO_Dev_0123456789abcdef', 'us-east-1')).toBe('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef');
    const roleArn = identityCenterRoleArn('111122223333', 'AWSReservedSSO_Dev_0123456789abcdef', 'eu-west-1');
    expect(roleArn).toBe('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef');
    const keys = sessionContext({ userId: 'u-1', userName: 'ana', accountId: '111122223333', roleArn }, Date.now());
    expect(keys.get('aws:principalarn')).toEqual([roleArn]);
    // A Deny on every Identity Center role, as AWS documents the pattern, applies.
    const set = policySetOf([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*' } } },
    ]);
    expect(evaluatePrepared(set, 's3:DeleteObject', '*', keys).decision).toBe('ExplicitDeny');
    expect(evaluatePrepared(set, 's3:GetObject', '*', keys).decision).toBe('Allow');
  });

  it("gives aws:TokenIssueTime, so that the IAM console's \"revoke active sessions\" Deny refuses credentials issued before it", () => {
    const issuedAt = Date.UTC(2026, 10, 21, 11, 0, 0, 5);
    const now = issuedAt + 3_600_000;
    const keys = sessionContext({ userId: 'u-1', userName: 'ana', accountId: '111122223333', issuedAt }, now);
    expect(keys.get('aws:tokenissuetime')).toEqual(['2026-11-21T11:00:00.005Z']);
    // The policy the console adds: deny everything to sessions whose token was issued before a time.
    const set = policySetOf([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-21T11:30:00Z' } } },
    ]);
    expect(evaluatePrepared(set, 's3:GetObject', '*', keys).decision).toBe('ExplicitDeny');
    const later = sessionContext({ userId: 'u-1', userName: 'ana', accountId: '111122223333', issuedAt: Date.UTC(2026, 10, 21, 11, 45) }, now);
    expect(evaluatePrepared(set, 's3:GetObject', '*', later).decision).toBe('Allow');
  });
});
