// Validation findings, as an administrator writing a policy would see them: what is wrong, where,
// and whether it blocks the write.

import { describe, expect, it } from 'vitest';
import { describeErrors, validatePolicy } from './validate-policy.js';

const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const codes = async (text: string) => (await validatePolicy(text)).map((f) => `${f.findingType} ${f.issueCode} ${f.location}`);

describe('validatePolicy', () => {
  it('finds nothing in a tidy least-privilege policy', async () => {
    const text = policy({ Effect: 'Allow', Action: ['s3:GetObject', 's3:List*'], Resource: 'arn:aws:s3:::bucket/${aws:username}/*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'red' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    expect(await validatePolicy(text)).toEqual([]);
  });

  it('reports grammar errors as ERRORs at their statement', async () => {
    expect(await codes(JSON.stringify({ Statement: [{ Action: '*', Resource: '*' }] }))).toEqual(['ERROR GRAMMAR Statement[0].Effect']);
    expect(await codes('{')).toEqual(['ERROR GRAMMAR ']);
  });

  it('reports unknown services, actions and condition keys as ERRORs', async () => {
    const text = policy(
      { Effect: 'Allow', Action: ['s3:GetObjekt', 'nosuchservice:Get', 's3:Zap*', 'S3:getobject'], Resource: '*' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:NoSuchKey': 'x', 's3:nosuchkey': 'y', 'bogus:key': 'z', 's3:prefix': 'ok' } } },
    );
    expect(await codes(text)).toEqual([
      'ERROR INVALID_ACTION Statement[0].Action[0]',
      'ERROR INVALID_SERVICE Statement[0].Action[1]',
      'ERROR INVALID_CONDITION_KEY Statement[1].Condition.StringEquals.aws:NoSuchKey',
      'ERROR INVALID_CONDITION_KEY Statement[1].Condition.StringEquals.s3:nosuchkey',
      'ERROR INVALID_CONDITION_KEY Statement[1].Condition.StringEquals.bogus:key',
      'WARNING ACTION_PATTERN_MATCHES_NOTHING Statement[0].Action[2]',
    ]);
  });

  it("reports names that are properties every JavaScript object inherits as unknown, never failing", async () => {
    // (Those the grammar takes as names: letters only. "constructor" used to fail the whole validation.)
    for (const name of Object.getOwnPropertyNames(Object.prototype).filter((n) => /^[A-Za-z]+$/.test(n))) {
      const text = policy(
        { Effect: 'Allow', Action: [`${name}:Get`, `s3:${name}`], Resource: `arn:aws:${name}:::b` },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { [`${name}:x`]: 'a', [`s3:${name}`]: 'b' } } },
      );
      expect(await codes(text), name).toEqual([
        'ERROR INVALID_SERVICE Statement[0].Action[0]',
        'ERROR INVALID_ACTION Statement[0].Action[1]',
        'ERROR INVALID_ARN_SERVICE Statement[0].Resource',
        `ERROR INVALID_CONDITION_KEY Statement[1].Condition.StringEquals.${name}:x`,
        `ERROR INVALID_CONDITION_KEY Statement[1].Condition.StringEquals.s3:${name}`,
      ]);
    }
  });

  it('reports malformed ARNs and condition values', async () => {
    const text = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: ['arn:aws:s3:::ok/*', 'arn:amazon:s3:::b', 'arn:aws:nosvc:::b', 'arn:aws:ec2:moon:111122223333:instance/*', 'arn:aws:ec2:us-east-1:1234:instance/*'],
      Condition: { NumericLessThan: { 's3:max-keys': 'ten' }, DateGreaterThan: { 'aws:CurrentTime': 'soon' }, Bool: { 'aws:SecureTransport': 'yes' }, IpAddress: { 'aws:SourceIp': 'intranet' } },
    });
    expect(await codes(text)).toEqual([
      'ERROR INVALID_ARN_PARTITION Statement.Resource[1]',
      'ERROR INVALID_ARN_SERVICE Statement.Resource[2]',
      'ERROR INVALID_ARN_REGION Statement.Resource[3]',
      'ERROR INVALID_ARN_ACCOUNT Statement.Resource[4]',
      'ERROR INVALID_CONDITION_VALUE Statement.Condition.NumericLessThan.s3:max-keys',
      'ERROR INVALID_CONDITION_VALUE Statement.Condition.DateGreaterThan.aws:CurrentTime',
      'ERROR INVALID_CONDITION_VALUE Statement.Condition.Bool.aws:SecureTransport',
      'ERROR INVALID_CONDITION_VALUE Statement.Condition.IpAddress.aws:SourceIp',
    ].map((c) => c.replace('Statement.', 'Statement[0].')));
  });

  it('refuses numbers that are not decimals and addresses that are not IPs or CIDR ranges', async () => {
    const text = policy({
      Effect: 'Deny',
      Action: 's3:ListBucket',
      Resource: '*',
      Condition: {
        NumericGreaterThan: { 's3:max-keys': ['100', '0x10', '1e3', ' 7'] },
        IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7', '999.1.1.1/99', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/8', '10.0.0/8'] },
      },
    });
    const where = (await validatePolicy(text)).filter((f) => f.findingType === 'ERROR').map((f) => f.message);
    const refused = ['0x10', '1e3', ' 7', '999.1.1.1/99', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/8', '10.0.0/8'];
    expect(where).toHaveLength(refused.length);
    for (const bad of refused) expect(where.some((m) => m.startsWith(JSON.stringify(bad)))).toBe(true);
  });

  it('refuses a key repeated in one object, which JSON.parse would silently read as its last value', async () => {
    const refused = async (text: string) => (await validatePolicy(text)).filter((f) => f.findingType === 'ERROR').map((f) => `${f.issueCode} ${f.message}`);
    // Reviewed as a Deny; without the check the engine reads an Allow.
    expect(await refused('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Effect":"Allow"}]}')).toEqual([expect.stringMatching(/^JSON_SYNTAX_ERROR .*repeats the key "Effect"/)]);
    expect(await refused('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true","aws:Secure\\u0054ransport":"false"}}}]}')).toEqual([
      expect.stringMatching(/repeats the key "aws:SecureTransport"/),
    ]);
    // The same key in sibling objects, in lists, and as a value is not a repeat.
    const st = '{"Effect":"Allow","Action":["s3:GetObject","s3:GetObject"],"Resource":"*","Condition":{"StringEquals":{"aws:username":"Effect"}}}';
    expect(await refused(`{"Version":"2012-10-17","Statement":[${st},{"Sid":"Effect","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`)).toEqual([]);
  });

  it('refuses a condition key (or operator) given twice in different case, as Access Analyzer does (DUPLICATE_KEYS_WITH_DIFFERENT_CASE)', async () => {
    const errors = async (condition: object) =>
      (await validatePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: condition }] })))
        .filter((f) => f.findingType === 'ERROR')
        .map((f) => ({ issueCode: f.issueCode, location: f.location, message: f.message }));
    // Key names ignore case: one key given twice, read by the engine as two conditions ANDed.
    expect(await errors({ StringEquals: { 'aws:username': 'alice', 'AWS:UserName': 'bob' } })).toEqual([
      {
        issueCode: 'DUPLICATE_KEYS_WITH_DIFFERENT_CASE',
        location: 'Statement[0].Condition.StringEquals.AWS:UserName',
        message: 'The condition key AWS:UserName appears more than once with different capitalization (aws:username) in the same condition block. Remove the duplicate condition keys.',
      },
    ]);
    // Operators ignore case too: two blocks of one operator.
    expect(await errors({ StringEquals: { 'aws:username': 'alice' }, stringequals: { 'aws:username': 'bob' } })).toEqual([
      expect.objectContaining({ issueCode: 'DUPLICATE_KEYS_WITH_DIFFERENT_CASE', location: 'Statement[0].Condition.stringequals' }),
    ]);
    // One key under two operators, or two keys that differ in more than case, is ordinary.
    expect(await errors({ StringLike: { 's3:prefix': 'home/*' }, StringNotLike: { 'S3:prefix': 'home/secret/*' } })).toEqual([]);
    expect(await errors({ StringEquals: { 'aws:username': 'alice', 'aws:PrincipalTag/team': 'red' } })).toEqual([]);
  });

  it('warns about overly broad grants without blocking them', async () => {
    const findings = await validatePolicy(
      policy(
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Allow', Action: ['iam:PassRole'], Resource: '*' },
        { Effect: 'Allow', Action: 'iam:Pass*', Resource: '*' },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*' },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/app' },
      ),
    );
    expect(findings.map((f) => `${f.findingType} ${f.issueCode} ${f.location}`)).toEqual([
      'WARNING FULL_ADMINISTRATOR_ACCESS Statement[0]',
      'WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE Statement[0]',
      'WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE Statement[1]',
      'WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE Statement[2]',
      'WARNING ALLOW_WITH_NOT_ACTION Statement[3]',
    ]);
    expect(describeErrors(findings)).toBeUndefined();
  });

  it('suggests a Version and removing repeated values', async () => {
    expect(await codes(JSON.stringify({ Statement: { Effect: 'Allow', Action: ['s3:GetObject', 's3:getobject'], Resource: 'arn:aws:s3:::b/*' } }))).toEqual([
      'SUGGESTION MISSING_VERSION Version',
      'SUGGESTION REDUNDANT_VALUE Statement.Action[1]',
    ]);
  });

  it('names every ERROR in one message for a ValidationException', async () => {
    const message = describeErrors(await validatePolicy(policy({ Effect: 'Allow', Action: 's3:GetObjekt', Resource: 'arn:aws:s3:::b' })));
    expect(message).toBe('Statement[0].Action: The action s3:GetObjekt does not exist.');
  });
});
