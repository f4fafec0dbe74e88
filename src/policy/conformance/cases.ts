// The conformance table: each group is a policy (and optional boundary) from an AWS documentation
// example, with the requests the page walks through and the decision it gives for each.

import type { ContextValue } from '../evaluate.js';
import type { SourceName } from './sources.js';

export type Expected = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
type Ctx = Record<string, ContextValue>;
export type Case = readonly [action: string, resource: string, context: Ctx, expected: Expected];

export interface Group {
  source: SourceName;
  title: string;
  policies: readonly object[];
  boundary?: readonly object[];
  cases: readonly Case[];
}

const doc = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements });
const allowAll = { Effect: 'Allow', Action: '*', Resource: '*' };
const A: Expected = 'Allow';
const D: Expected = 'ExplicitDeny';
const N: Expected = 'ImplicitDeny';

/** One condition on an Allow of `s3:GetObject` on `*`; the cases vary only the context. */
const onCondition = (source: SourceName, title: string, condition: object, rows: readonly [Ctx, Expected][]): Group => ({
  source,
  title,
  policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition })],
  cases: rows.map(([ctx, e]) => ['s3:GetObject', 'arn:aws:s3:::bucket/key', ctx, e] as const),
});

const BUCKET = 'arn:aws:s3:::amzn-s3-demo-bucket';

export const GROUPS: readonly Group[] = [
  // ---- evaluation logic ----
  {
    source: 'evaluation',
    title: 'no policy allows: implicit deny',
    policies: [doc({ Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET })],
    cases: [
      ['s3:ListBucket', BUCKET, {}, A],
      ['s3:GetObject', `${BUCKET}/a`, {}, N],
      ['ec2:RunInstances', '*', {}, N],
      ['s3:ListBucket', 'arn:aws:s3:::other-bucket', {}, N],
      ['s3:ListAllMyBuckets', '*', {}, N],
    ],
  },
  {
    source: 'evaluation',
    title: 'an explicit deny overrides any allow',
    policies: [doc(allowAll, { Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' })],
    cases: [
      ['s3:DeleteBucket', BUCKET, {}, D],
      ['s3:deletebucket', BUCKET, {}, D],
      ['s3:CreateBucket', BUCKET, {}, A],
      ['iam:CreateUser', 'arn:aws:iam::111122223333:user/bob', {}, A],
      ['s3:DeleteObject', `${BUCKET}/x`, {}, A],
    ],
  },
  {
    source: 'evaluationExplicitDeny',
    title: 'deny and allow in different policies',
    policies: [
      doc({ Effect: 'Allow', Action: ['ec2:*', 's3:*'], Resource: '*' }),
      doc({ Effect: 'Deny', Action: 'ec2:TerminateInstances', Resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*' }),
    ],
    cases: [
      ['ec2:TerminateInstances', 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc', {}, D],
      ['ec2:TerminateInstances', 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc', {}, A],
      ['ec2:StartInstances', 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc', {}, A],
      ['s3:GetObject', `${BUCKET}/a`, {}, A],
      ['iam:ListUsers', '*', {}, N],
    ],
  },
  {
    source: 'evaluation',
    title: 'a deny whose condition does not match does not deny',
    policies: [doc(allowAll, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } } })],
    cases: [
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': 'false' }, D],
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': 'true' }, A],
      ['s3:GetObject', `${BUCKET}/a`, {}, A],
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': false }, D],
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': true }, A],
    ],
  },
  {
    source: 'evaluation',
    title: 'statements are independent: any matching allow allows',
    policies: [
      doc(
        { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET },
        { Sid: 'Objects', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${BUCKET}/*` },
      ),
    ],
    cases: [
      ['s3:ListBucket', BUCKET, {}, A],
      ['s3:GetObject', `${BUCKET}/photo.jpg`, {}, A],
      ['s3:PutObject', `${BUCKET}/dir/photo.jpg`, {}, A],
      ['s3:GetObject', BUCKET, {}, N],
      ['s3:ListBucket', `${BUCKET}/x`, {}, N],
      ['s3:DeleteObject', `${BUCKET}/photo.jpg`, {}, N],
    ],
  },
  // ---- permissions boundaries ----
  {
    source: 'boundaries',
    title: 'effective permissions are the intersection of identity policy and boundary',
    policies: [doc({ Effect: 'Allow', Action: 'iam:*', Resource: '*' })],
    boundary: [doc({ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*'], Resource: '*' })],
    cases: [
      ['iam:CreateUser', '*', {}, N],
      ['s3:GetObject', '*', {}, N],
      ['ec2:RunInstances', '*', {}, N],
      ['cloudwatch:PutMetricData', '*', {}, N],
    ],
  },
  {
    source: 'boundaries',
    title: 'boundary allows what the identity policy allows',
    policies: [doc({ Effect: 'Allow', Action: ['s3:*', 'iam:*'], Resource: '*' })],
    boundary: [doc({ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*'], Resource: '*' })],
    cases: [
      ['s3:GetObject', `${BUCKET}/k`, {}, A],
      ['s3:PutObject', `${BUCKET}/k`, {}, A],
      ['iam:CreateUser', '*', {}, N],
      ['cloudwatch:PutMetricData', '*', {}, N],
      ['ec2:RunInstances', '*', {}, N],
    ],
  },
  {
    source: 'boundaries',
    title: 'an explicit deny in the boundary denies',
    policies: [doc(allowAll)],
    boundary: [doc(allowAll, { Effect: 'Deny', Action: 'iam:DeleteUserPermissionsBoundary', Resource: '*' })],
    cases: [
      ['iam:DeleteUserPermissionsBoundary', 'arn:aws:iam::111122223333:user/u', {}, D],
      ['iam:CreateUser', 'arn:aws:iam::111122223333:user/u', {}, A],
      ['s3:GetObject', `${BUCKET}/k`, {}, A],
    ],
  },
  {
    source: 'boundaries',
    title: 'a boundary scoped by resource',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })],
    boundary: [doc({ Effect: 'Allow', Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`] })],
    cases: [
      ['s3:GetObject', `${BUCKET}/k`, {}, A],
      ['s3:ListBucket', BUCKET, {}, A],
      ['s3:GetObject', 'arn:aws:s3:::other/k', {}, N],
      ['s3:ListBucket', 'arn:aws:s3:::other', {}, N],
    ],
  },
  // ---- Action: case-insensitive, wildcards ----
  {
    source: 'action',
    title: 'action names are case-insensitive and take wildcards',
    policies: [doc({ Effect: 'Allow', Action: ['sqs:SendMessage', 'iam:*AccessKey*', 'ec2:Describe*', 's3:Get?bject'], Resource: '*' })],
    cases: [
      ['sqs:SendMessage', '*', {}, A],
      ['SQS:SENDMESSAGE', '*', {}, A],
      ['sqs:sendmessage', '*', {}, A],
      ['sqs:SendMessageBatch', '*', {}, N],
      ['iam:CreateAccessKey', '*', {}, A],
      ['iam:DeleteAccessKey', '*', {}, A],
      ['iam:ListAccessKeys', '*', {}, A],
      ['iam:UpdateAccessKey', '*', {}, A],
      ['iam:CreateUser', '*', {}, N],
      ['ec2:DescribeInstances', '*', {}, A],
      ['ec2:describeimages', '*', {}, A],
      ['ec2:RunInstances', '*', {}, N],
      ['s3:GetObject', '*', {}, A],
      ['s3:Getobject', '*', {}, A],
      ['s3:GetObjectAcl', '*', {}, N],
      ['s3:GettObject', '*', {}, N],
    ],
  },
  {
    source: 'action',
    title: 'service-wide and prefix wildcards',
    policies: [doc({ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }, { Effect: 'Allow', Action: ['iam:List*', 's3:List*'], Resource: '*' })],
    cases: [
      ['dynamodb:GetItem', '*', {}, A],
      ['DynamoDB:PutItem', '*', {}, A],
      ['dynamodbx:GetItem', '*', {}, N],
      ['s3:ListBucket', '*', {}, A],
      ['iam:ListUsers', '*', {}, A],
      ['iam:GetUser', '*', {}, N],
    ],
  },
  // ---- Resource: case-sensitive, wildcards ----
  {
    source: 'resource',
    title: 'resource ARNs are case-sensitive; * and ? match within and across segments',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 'iam:*',
        Resource: ['arn:aws:iam::111122223333:user/Bob', 'arn:aws:iam::111122223333:group/*', 'arn:aws:iam::111122223333:role/app-??'],
      }),
    ],
    cases: [
      ['iam:GetUser', 'arn:aws:iam::111122223333:user/Bob', {}, A],
      ['iam:GetUser', 'arn:aws:iam::111122223333:user/bob', {}, N],
      ['iam:GetUser', 'arn:aws:iam::111122223333:user/BOB', {}, N],
      ['iam:GetGroup', 'arn:aws:iam::111122223333:group/Admins', {}, A],
      ['iam:GetGroup', 'arn:aws:iam::111122223333:group/division_abc/subdivision_xyz/product_A/Developers', {}, A],
      ['iam:GetGroup', 'arn:aws:iam::444455556666:group/Admins', {}, N],
      ['iam:GetRole', 'arn:aws:iam::111122223333:role/app-01', {}, A],
      ['iam:GetRole', 'arn:aws:iam::111122223333:role/app-1', {}, N],
      ['iam:GetRole', 'arn:aws:iam::111122223333:role/app-001', {}, N],
      ['iam:GetRole', 'arn:aws:iam::111122223333:role/APP-01', {}, N],
    ],
  },
  {
    source: 'resource',
    title: 'wildcards in the region and account segments',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: ['arn:aws:sqs:*:111122223333:queue*', 'arn:aws:sqs:us-east-?:*:orders'] })],
    cases: [
      ['sqs:SendMessage', 'arn:aws:sqs:us-east-1:111122223333:queue1', {}, A],
      ['sqs:SendMessage', 'arn:aws:sqs:eu-west-3:111122223333:queue', {}, A],
      ['sqs:SendMessage', 'arn:aws:sqs:eu-west-3:111122223334:queue1', {}, N],
      ['sqs:SendMessage', 'arn:aws:sqs:us-east-2:444455556666:orders', {}, A],
      ['sqs:SendMessage', 'arn:aws:sqs:us-west-2:444455556666:orders', {}, N],
      ['sqs:SendMessage', 'arn:aws:sqs:us-east-2:444455556666:Orders', {}, N],
    ],
  },
  {
    source: 'resource',
    title: 'a bucket ARN does not cover its objects and vice versa',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/*` })],
    cases: [
      ['s3:GetObject', `${BUCKET}/a`, {}, A],
      ['s3:GetObject', `${BUCKET}/a/b/c`, {}, A],
      ['s3:GetObject', `${BUCKET}/`, {}, A],
      ['s3:ListBucket', BUCKET, {}, N],
      ['s3:GetObject', `${BUCKET}-2/a`, {}, N],
    ],
  },
  // ---- NotAction ----
  {
    source: 'notAction',
    title: 'Allow with NotAction allows everything except the listed actions',
    policies: [doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })],
    cases: [
      ['s3:GetObject', '*', {}, A],
      ['ec2:RunInstances', '*', {}, A],
      ['iam:CreateUser', '*', {}, N],
      ['IAM:createuser', '*', {}, N],
      ['iam:ListUsers', '*', {}, N],
      ['organizations:ListAccounts', '*', {}, A],
    ],
  },
  {
    source: 'notAction',
    title: 'Allow NotAction scoped to a service: the resource still applies',
    policies: [doc({ Effect: 'Allow', NotAction: 's3:DeleteBucket', Resource: 'arn:aws:s3:::*' })],
    cases: [
      ['s3:GetObject', `${BUCKET}/a`, {}, A],
      ['s3:DeleteBucket', BUCKET, {}, N],
      ['s3:ListBucket', BUCKET, {}, A],
      ['ec2:RunInstances', 'arn:aws:ec2:us-east-1:111122223333:instance/*', {}, N],
    ],
  },
  {
    source: 'notAction',
    title: 'Deny with NotAction when MFA is absent (BoolIfExists)',
    policies: [
      doc(allowAll, {
        Sid: 'DenyAllExceptListedIfNoMFA',
        Effect: 'Deny',
        NotAction: ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:GetUser', 'iam:ListMFADevices', 'iam:ListVirtualMFADevices', 'iam:ResyncMFADevice', 'sts:GetSessionToken'],
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      }),
    ],
    cases: [
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': 'false' }, D],
      ['s3:GetObject', `${BUCKET}/a`, {}, D],
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:MultiFactorAuthPresent': 'true' }, A],
      ['iam:EnableMFADevice', '*', { 'aws:MultiFactorAuthPresent': 'false' }, A],
      ['iam:GetUser', '*', {}, A],
      ['sts:GetSessionToken', '*', {}, A],
      ['iam:CreateUser', '*', {}, D],
      ['iam:CreateUser', '*', { 'aws:MultiFactorAuthPresent': 'true' }, A],
    ],
  },
  {
    source: 'notAction',
    title: 'Deny NotAction for everything outside a set of services',
    policies: [doc(allowAll, { Effect: 'Deny', NotAction: ['s3:*', 'cloudwatch:*'], Resource: '*' })],
    cases: [
      ['s3:GetObject', '*', {}, A],
      ['cloudwatch:GetMetricData', '*', {}, A],
      ['ec2:RunInstances', '*', {}, D],
      ['iam:CreateUser', '*', {}, D],
    ],
  },
  // ---- NotResource ----
  {
    source: 'notResource',
    title: 'Deny all resources except one bucket',
    policies: [
      doc(allowAll, { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] }),
    ],
    cases: [
      ['s3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/salaries.csv', {}, A],
      ['s3:ListBucket', 'arn:aws:s3:::HRBucket/Payroll', {}, A],
      ['s3:GetObject', 'arn:aws:s3:::HRBucket/Other/x', {}, D],
      ['s3:GetObject', 'arn:aws:s3:::hrbucket/Payroll/x', {}, D],
      ['ec2:RunInstances', '*', {}, A],
    ],
  },
  {
    source: 'notResource',
    title: 'Allow with NotResource allows every other resource',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] })],
    cases: [
      ['s3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/salaries.csv', {}, N],
      ['s3:GetObject', 'arn:aws:s3:::HRBucket/Public/x', {}, A],
      ['s3:GetObject', `${BUCKET}/x`, {}, A],
      ['ec2:RunInstances', '*', {}, N],
    ],
  },
  {
    source: 'notResource',
    title: 'NotAction with NotResource',
    policies: [doc(allowAll, { Effect: 'Deny', NotAction: 'sts:*', NotResource: 'arn:aws:s3:::public/*' })],
    cases: [
      ['sts:AssumeRole', 'arn:aws:iam::111122223333:role/r', {}, A],
      ['s3:GetObject', 'arn:aws:s3:::public/x', {}, A],
      ['s3:GetObject', 'arn:aws:s3:::private/x', {}, D],
    ],
  },
  // ---- String operators ----
  onCondition('string', 'StringEquals on a principal tag (exact, case-sensitive)', { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, [
    [{ 'aws:PrincipalTag/job-category': 'iamuser-admin' }, A],
    [{ 'aws:PrincipalTag/job-category': 'dev-ops' }, N],
    [{ 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }, N],
    [{ 'aws:PrincipalTag/job-category': 'iamuser-admin ' }, N],
    [{}, N],
    [{ 'aws:PrincipalTag/other': 'iamuser-admin' }, N],
    [{ 'aws:principaltag/JOB-CATEGORY': 'iamuser-admin' }, A],
  ]),
  onCondition('string', 'StringNotEquals', { StringNotEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }, [
    [{ 'aws:PrincipalTag/job-category': 'iamuser-admin' }, N],
    [{ 'aws:PrincipalTag/job-category': 'dev-ops' }, A],
    [{ 'aws:PrincipalTag/job-category': 'IAMUSER-ADMIN' }, A],
    [{}, A],
  ]),
  onCondition('string', 'StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:PrincipalTag/name': 'ProductionEC2' } }, [
    [{ 'aws:PrincipalTag/name': 'ProductionEC2' }, A],
    [{ 'aws:PrincipalTag/name': 'productionec2' }, A],
    [{ 'aws:PrincipalTag/name': 'PRODUCTIONEC2' }, A],
    [{ 'aws:PrincipalTag/name': 'production-ec2' }, N],
    [{}, N],
  ]),
  onCondition('string', 'StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/name': 'ProductionEC2' } }, [
    [{ 'aws:PrincipalTag/name': 'productionec2' }, N],
    [{ 'aws:PrincipalTag/name': 'Staging' }, A],
    [{}, A],
  ]),
  onCondition('stringWildcard', 'StringLike with * and ?', { StringLike: { 's3:prefix': ['home/${aws:username}/*', 'tmp/??/*'] } }, [
    [{ 's3:prefix': 'home/alice/docs', 'aws:username': 'alice' }, A],
    [{ 's3:prefix': 'home/alice/', 'aws:username': 'alice' }, A],
    [{ 's3:prefix': 'home/bob/docs', 'aws:username': 'alice' }, N],
    [{ 's3:prefix': 'home/alice', 'aws:username': 'alice' }, N],
    [{ 's3:prefix': 'tmp/ab/x' }, A],
    [{ 's3:prefix': 'tmp/abc/x' }, N],
    [{ 's3:prefix': 'TMP/ab/x' }, N],
    [{}, N],
  ]),
  onCondition('stringWildcard', 'StringNotLike', { StringNotLike: { 'aws:PrincipalTag/team': 'dev*' } }, [
    [{ 'aws:PrincipalTag/team': 'dev' }, N],
    [{ 'aws:PrincipalTag/team': 'devops' }, N],
    [{ 'aws:PrincipalTag/team': 'ops' }, A],
    [{ 'aws:PrincipalTag/team': 'Dev' }, A],
    [{}, A],
  ]),
  onCondition('string', 'StringEquals: in 2012-10-17 a * in a StringEquals value is literal', { StringEquals: { 'aws:PrincipalTag/team': 'dev*' } }, [
    [{ 'aws:PrincipalTag/team': 'dev*' }, A],
    [{ 'aws:PrincipalTag/team': 'devops' }, N],
  ]),
  // ---- Numeric ----
  onCondition('numeric', 'NumericLessThanEquals s3:max-keys 10', { NumericLessThanEquals: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '10' }, A],
    [{ 's3:max-keys': '9' }, A],
    [{ 's3:max-keys': 0 }, A],
    [{ 's3:max-keys': '11' }, N],
    [{ 's3:max-keys': '10.5' }, N],
    [{ 's3:max-keys': 'ten' }, N],
    [{}, N],
  ]),
  onCondition('numeric', 'NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '10' }, A],
    [{ 's3:max-keys': '10.0' }, A],
    [{ 's3:max-keys': '11' }, N],
    [{}, N],
  ]),
  onCondition('numeric', 'NumericNotEquals', { NumericNotEquals: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '10' }, N],
    [{ 's3:max-keys': '11' }, A],
    [{}, A],
  ]),
  onCondition('numeric', 'NumericLessThan', { NumericLessThan: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '9' }, A],
    [{ 's3:max-keys': '10' }, N],
    [{ 's3:max-keys': '-1' }, A],
  ]),
  onCondition('numeric', 'NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '11' }, A],
    [{ 's3:max-keys': '10' }, N],
    [{ 's3:max-keys': '100' }, A],
  ]),
  onCondition('numeric', 'NumericGreaterThanEquals', { NumericGreaterThanEquals: { 's3:max-keys': '10' } }, [
    [{ 's3:max-keys': '10' }, A],
    [{ 's3:max-keys': '9.99' }, N],
    [{}, N],
  ]),
  // ---- Date ----
  onCondition('date', 'DateLessThan aws:TokenIssueTime', { DateLessThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }, [
    [{ 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, A],
    [{ 'aws:TokenIssueTime': '2019-12-31T23:59:59Z' }, A],
    [{ 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' }, N],
    [{ 'aws:TokenIssueTime': '2020-01-01T00:00:02Z' }, N],
    [{ 'aws:TokenIssueTime': '1577836800' }, A],
    [{ 'aws:TokenIssueTime': 'yesterday' }, N],
    [{}, N],
  ]),
  onCondition('date', 'DateGreaterThan aws:CurrentTime', { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' } }, [
    [{ 'aws:CurrentTime': '2020-04-01T00:00:01Z' }, A],
    [{ 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, N],
    [{ 'aws:CurrentTime': '2020-03-31T12:00:00Z' }, N],
    [{ 'aws:CurrentTime': '2020-04-01T02:00:00+01:00' }, A],
  ]),
  onCondition('date', 'DateEquals and epoch values in the policy', { DateEquals: { 'aws:EpochTime': '1577836800' } }, [
    [{ 'aws:EpochTime': '1577836800' }, A],
    [{ 'aws:EpochTime': '2020-01-01T00:00:00Z' }, A],
    [{ 'aws:EpochTime': '1577836801' }, N],
  ]),
  onCondition('date', 'DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, [
    [{ 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, N],
    [{ 'aws:CurrentTime': '2021-01-01T00:00:00Z' }, A],
    [{}, A],
  ]),
  onCondition('date', 'DateLessThanEquals / DateGreaterThanEquals (a time window)', {
    DateGreaterThanEquals: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' },
    DateLessThanEquals: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' },
  }, [
    [{ 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, A],
    [{ 'aws:CurrentTime': '2020-05-15T12:00:00Z' }, A],
    [{ 'aws:CurrentTime': '2020-06-30T23:59:59Z' }, A],
    [{ 'aws:CurrentTime': '2020-07-01T00:00:00Z' }, N],
    [{ 'aws:CurrentTime': '2020-03-31T23:59:59Z' }, N],
  ]),
  // ---- Bool, Binary ----
  onCondition('bool', 'Bool aws:SecureTransport', { Bool: { 'aws:SecureTransport': 'true' } }, [
    [{ 'aws:SecureTransport': 'true' }, A],
    [{ 'aws:SecureTransport': true }, A],
    [{ 'aws:SecureTransport': 'TRUE' }, A],
    [{ 'aws:SecureTransport': 'false' }, N],
    [{ 'aws:SecureTransport': false }, N],
    [{}, N],
  ]),
  {
    source: 'bool',
    title: 'Deny when aws:SecureTransport is false',
    policies: [doc(allowAll, { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
    cases: [
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:SecureTransport': 'false' }, D],
      ['s3:GetObject', `${BUCKET}/a`, { 'aws:SecureTransport': 'true' }, A],
      ['s3:GetObject', `${BUCKET}/a`, {}, A],
      ['ec2:RunInstances', '*', { 'aws:SecureTransport': 'false' }, A],
    ],
  },
  onCondition('binary', 'BinaryEquals', { BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, [
    [{ key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, A],
    [{ key: 'QmluYXJ5VmFsdWVJbkJhc2U2NB==' }, N],
    [{}, N],
  ]),
  // ---- IP addresses ----
  onCondition('ip', 'IpAddress with an IPv4 CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, [
    [{ 'aws:SourceIp': '203.0.113.0' }, A],
    [{ 'aws:SourceIp': '203.0.113.1' }, A],
    [{ 'aws:SourceIp': '203.0.113.255' }, A],
    [{ 'aws:SourceIp': '203.0.114.1' }, N],
    [{ 'aws:SourceIp': '10.0.0.1' }, N],
    [{ 'aws:SourceIp': 'not-an-ip' }, N],
    [{ 'aws:SourceIp': '2001:db8::1' }, N],
    [{}, N],
  ]),
  onCondition('ip', 'IpAddress with IPv4 and IPv6 ranges', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } }, [
    [{ 'aws:SourceIp': '2001:db8:1234:5678::1' }, A],
    [{ 'aws:SourceIp': '2001:DB8:1234:5678:ffff:ffff:ffff:ffff' }, A],
    [{ 'aws:SourceIp': '2001:db8:1234:5679::1' }, N],
    [{ 'aws:SourceIp': '203.0.113.7' }, A],
  ]),
  onCondition('ip', 'IpAddress with a single address and /32, /0', { IpAddress: { 'aws:SourceIp': ['192.0.2.7', '198.51.100.9/32'] } }, [
    [{ 'aws:SourceIp': '192.0.2.7' }, A],
    [{ 'aws:SourceIp': '192.0.2.8' }, N],
    [{ 'aws:SourceIp': '198.51.100.9' }, A],
    [{ 'aws:SourceIp': '198.51.100.10' }, N],
  ]),
  onCondition('ip', 'NotIpAddress', { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, [
    [{ 'aws:SourceIp': '192.0.2.10' }, N],
    [{ 'aws:SourceIp': '203.0.113.10' }, N],
    [{ 'aws:SourceIp': '198.51.100.10' }, A],
    [{}, A],
  ]),
  {
    source: 'ip',
    title: 'Deny from outside the corporate ranges',
    policies: [doc(allowAll, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } } })],
    cases: [
      ['s3:GetObject', '*', { 'aws:SourceIp': '192.0.2.44' }, A],
      ['s3:GetObject', '*', { 'aws:SourceIp': '8.8.8.8' }, D],
      ['s3:GetObject', '*', {}, D],
    ],
  },
  // ---- ARN ----
  onCondition('arn', 'ArnLike aws:SourceArn, component by component', { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111122223333:trail/*' } }, [
    [{ 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:111122223333:trail/my-trail' }, A],
    [{ 'aws:SourceArn': 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/x/y' }, A],
    [{ 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:444455556666:trail/my-trail' }, N],
    [{ 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:111122223333:Trail/my-trail' }, N],
    [{ 'aws:SourceArn': 'arn:aws:s3:us-east-1:111122223333:trail/my-trail' }, N],
    [{ 'aws:SourceArn': 'not-an-arn' }, N],
    [{}, N],
  ]),
  onCondition('arn', 'ArnEquals (wildcards are read as in ArnLike)', { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic-?' } }, [
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic-a' }, A],
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:topic-ab' }, N],
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-2:111122223333:topic-a' }, N],
  ]),
  onCondition('arn', 'a * in one ARN component does not cross the colon', { ArnLike: { 'aws:SourceArn': 'arn:aws:sqs:us-east-1:*' } }, [
    [{ 'aws:SourceArn': 'arn:aws:sqs:us-east-1:111122223333:queue' }, N],
  ]),
  onCondition('arn', 'ArnNotLike / ArnNotEquals', {
    ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:*' },
    ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/Admin' },
  }, [
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:444455556666:t', 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/Dev' }, A],
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t', 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/Dev' }, N],
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:444455556666:t', 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/Admin' }, N],
    [{}, A],
  ]),
  // ---- IfExists ----
  onCondition('ifExists', 'StringLikeIfExists on ec2:InstanceType', { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }, [
    [{ 'ec2:InstanceType': 't2.micro' }, A],
    [{ 'ec2:InstanceType': 'm3.large' }, A],
    [{ 'ec2:InstanceType': 'm5.large' }, N],
    [{}, A],
  ]),
  onCondition('ifExists', 'NumericLessThanIfExists / DateLessThanIfExists / BoolIfExists / IpAddressIfExists / ArnLikeIfExists', {
    NumericLessThanIfExists: { 's3:max-keys': '100' },
    DateLessThanIfExists: { 'aws:TokenIssueTime': '2030-01-01T00:00:00Z' },
    BoolIfExists: { 'aws:ViaAWSService': 'false' },
    IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' },
    ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' },
  }, [
    [{}, A],
    [{ 's3:max-keys': '50' }, A],
    [{ 's3:max-keys': '500' }, N],
    [{ 'aws:TokenIssueTime': '2031-01-01T00:00:00Z' }, N],
    [{ 'aws:ViaAWSService': 'true' }, N],
    [{ 'aws:SourceIp': '10.1.2.3' }, A],
    [{ 'aws:SourceIp': '11.1.2.3' }, N],
    [{ 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' }, A],
    [{ 'aws:SourceArn': 'arn:aws:sqs:us-east-1:111122223333:t' }, N],
  ]),
  onCondition('ifExists', 'StringNotEqualsIfExists', { StringNotEqualsIfExists: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } }, [
    [{ 'aws:RequestedRegion': 'us-east-1' }, N],
    [{ 'aws:RequestedRegion': 'ap-south-1' }, A],
    [{}, A],
  ]),
  // ---- Null ----
  onCondition('nullCheck', 'Null true: the key must be absent', { Null: { 'aws:TokenIssueTime': 'true' } }, [
    [{}, A],
    [{ 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, N],
    [{ 'aws:TokenIssueTime': '' }, N],
  ]),
  onCondition('nullCheck', 'Null false: the key must be present', { Null: { 'aws:TokenIssueTime': 'false' } }, [
    [{}, N],
    [{ 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, A],
    [{ 'aws:TokenIssueTime': '' }, A],
  ]),
  {
    source: 'nullCheck',
    title: 'Deny tagging without a cost-center tag (Null with Deny)',
    policies: [doc(allowAll, { Effect: 'Deny', Action: 'ec2:CreateTags', Resource: '*', Condition: { Null: { 'aws:RequestTag/cost-center': 'true' } } })],
    cases: [
      ['ec2:CreateTags', '*', {}, D],
      ['ec2:CreateTags', '*', { 'aws:RequestTag/cost-center': '123' }, A],
      ['ec2:CreateTags', '*', { 'aws:RequestTag/owner': 'x' }, D],
      ['ec2:RunInstances', '*', {}, A],
    ],
  },
  // ---- missing keys ----
  onCondition('missingKey', 'a missing key makes positive operators false', {
    StringLike: { 'aws:PrincipalTag/project': '*' },
  }, [
    [{}, N],
    [{ 'aws:PrincipalTag/project': '' }, A],
    [{ 'aws:PrincipalTag/project': 'x' }, A],
  ]),
  onCondition('missingKey', 'a missing key makes negated operators true', {
    StringNotLike: { 'aws:PrincipalTag/project': 'secret*' },
    ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::secret*' },
    NumericNotEquals: { 's3:max-keys': '0' },
    NotIpAddress: { 'aws:SourceIp': '0.0.0.0/0' },
  }, [
    [{}, A],
    [{ 'aws:PrincipalTag/project': 'secret-x' }, N],
    [{ 'aws:SourceIp': '1.2.3.4' }, N],
    [{ 's3:max-keys': '0' }, N],
  ]),
  // ---- several keys (AND), several values (OR) ----
  onCondition('multipleKeys', 'several keys in one operator: all must match', {
    StringEquals: { 'aws:PrincipalTag/department': 'finance', 'aws:PrincipalTag/role': 'audit' },
  }, [
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:PrincipalTag/role': 'audit' }, A],
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:PrincipalTag/role': 'dev' }, N],
    [{ 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'audit' }, N],
    [{ 'aws:PrincipalTag/department': 'finance' }, N],
    [{}, N],
  ]),
  onCondition('multipleKeys', 'several operators: all must match', {
    StringEquals: { 'aws:PrincipalTag/department': 'finance' },
    Bool: { 'aws:MultiFactorAuthPresent': 'true' },
    IpAddress: { 'aws:SourceIp': '192.0.2.0/24' },
  }, [
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:MultiFactorAuthPresent': 'true', 'aws:SourceIp': '192.0.2.1' }, A],
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:MultiFactorAuthPresent': 'false', 'aws:SourceIp': '192.0.2.1' }, N],
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:MultiFactorAuthPresent': 'true', 'aws:SourceIp': '198.51.100.1' }, N],
    [{ 'aws:MultiFactorAuthPresent': 'true', 'aws:SourceIp': '192.0.2.1' }, N],
  ]),
  onCondition('multipleValues', 'several values for one key: any may match', {
    StringEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'] },
  }, [
    [{ 'aws:PrincipalTag/department': 'finance' }, A],
    [{ 'aws:PrincipalTag/department': 'hr' }, A],
    [{ 'aws:PrincipalTag/department': 'legal' }, A],
    [{ 'aws:PrincipalTag/department': 'it' }, N],
    [{ 'aws:PrincipalTag/department': 'Finance' }, N],
    [{}, N],
  ]),
  onCondition('multipleValues', 'several keys and several values', {
    StringEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'], 'aws:PrincipalTag/role': ['audit', 'security'] },
    ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:user/Ana', 'arn:aws:iam::222222222222:user/Mary'] },
  }, [
    [{ 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'security', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Mary' }, A],
    [{ 'aws:PrincipalTag/department': 'legal', 'aws:PrincipalTag/role': 'audit', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Ana' }, A],
    [{ 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'security', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Bob' }, N],
    [{ 'aws:PrincipalTag/department': 'it', 'aws:PrincipalTag/role': 'security', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Mary' }, N],
    [{ 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'dev', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Mary' }, N],
    [{ 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Mary' }, N],
  ]),
  onCondition('negatedMultipleValues', 'a negated operator with several values: the request must match none', {
    StringNotEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'] },
  }, [
    [{ 'aws:PrincipalTag/department': 'finance' }, N],
    [{ 'aws:PrincipalTag/department': 'hr' }, N],
    [{ 'aws:PrincipalTag/department': 'it' }, A],
    [{}, A],
  ]),
  onCondition('negatedMultipleValues', 'several negated keys', {
    StringNotEquals: { 'aws:PrincipalTag/department': ['finance', 'hr'], 'aws:PrincipalTag/role': ['audit', 'security'] },
  }, [
    [{ 'aws:PrincipalTag/department': 'it', 'aws:PrincipalTag/role': 'dev' }, A],
    [{ 'aws:PrincipalTag/department': 'finance', 'aws:PrincipalTag/role': 'dev' }, N],
    [{ 'aws:PrincipalTag/department': 'it', 'aws:PrincipalTag/role': 'audit' }, N],
    [{ 'aws:PrincipalTag/department': 'it' }, A],
  ]),
  // ---- multivalued keys ----
  onCondition('forAllValues', 'ForAllValues:StringEquals on aws:TagKeys', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, [
    [{ 'aws:TagKeys': ['environment'] }, A],
    [{ 'aws:TagKeys': ['environment', 'cost-center'] }, A],
    [{ 'aws:TagKeys': ['cost-center', 'environment'] }, A],
    [{ 'aws:TagKeys': ['environment', 'owner'] }, N],
    [{ 'aws:TagKeys': ['owner'] }, N],
    [{ 'aws:TagKeys': ['Environment'] }, N],
    [{ 'aws:TagKeys': [] }, A],
    [{}, A],
  ]),
  onCondition('forAnyValue', 'ForAnyValue:StringEquals on aws:TagKeys', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, [
    [{ 'aws:TagKeys': ['environment'] }, A],
    [{ 'aws:TagKeys': ['environment', 'owner'] }, A],
    [{ 'aws:TagKeys': ['owner', 'project'] }, N],
    [{ 'aws:TagKeys': [] }, N],
    [{}, N],
  ]),
  onCondition('forAnyValue', 'ForAnyValue:StringLike with wildcards', { 'ForAnyValue:StringLike': { 'aws:PrincipalServiceNamesList': '*.amazonaws.com' } }, [
    [{ 'aws:PrincipalServiceNamesList': ['ec2.amazonaws.com', 'local'] }, A],
    [{ 'aws:PrincipalServiceNamesList': ['local'] }, N],
  ]),
  onCondition('forAnyValue', 'ForAnyValue:StringNotEquals: some request value matches none', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }, [
    [{ 'aws:TagKeys': ['environment', 'owner'] }, A],
    [{ 'aws:TagKeys': ['environment', 'cost-center'] }, N],
    [{}, N],
  ]),
  onCondition('forAllValues', 'ForAllValues:StringNotLike: no request value may match', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['key1*', 'key2*'] } }, [
    [{ 'aws:TagKeys': ['owner', 'env'] }, A],
    [{ 'aws:TagKeys': ['owner', 'key1-a'] }, N],
    [{}, A],
  ]),
  onCondition('forAllValues', 'ForAllValues with Null false: present and all listed', {
    'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] },
    Null: { 'aws:TagKeys': 'false' },
  }, [
    [{ 'aws:TagKeys': ['environment'] }, A],
    [{}, N],
    [{ 'aws:TagKeys': ['environment', 'x'] }, N],
  ]),
  {
    source: 'multiValuedExamples',
    title: 'Deny tagging with prefixes (ForAnyValue:StringLike in a Deny)',
    policies: [
      doc(allowAll, { Effect: 'Deny', Action: ['iam:Tag*', 'iam:UnTag*'], Resource: '*', Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['key1*', 'key2*'] } } }),
    ],
    cases: [
      ['iam:TagUser', '*', { 'aws:TagKeys': ['key1-a'] }, D],
      ['iam:TagUser', '*', { 'aws:TagKeys': ['other', 'key2'] }, D],
      ['iam:TagUser', '*', { 'aws:TagKeys': ['other'] }, A],
      ['iam:TagUser', '*', {}, A],
      ['iam:UntagRole', '*', { 'aws:TagKeys': ['key1'] }, D],
      ['iam:CreateUser', '*', { 'aws:TagKeys': ['key1'] }, A],
    ],
  },
  {
    source: 'multiValuedExamples',
    title: 'Allow tagging only with listed keys (ForAllValues plus a Null check)',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: '*',
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['environment', 'webserver'] }, Null: { 'aws:TagKeys': 'false' } },
      }),
    ],
    cases: [
      ['ec2:CreateTags', '*', { 'aws:TagKeys': ['environment'] }, A],
      ['ec2:CreateTags', '*', { 'aws:TagKeys': ['environment', 'webserver'] }, A],
      ['ec2:CreateTags', '*', { 'aws:TagKeys': ['environment', 'owner'] }, N],
      ['ec2:CreateTags', '*', {}, N],
    ],
  },
  // ---- policy variables ----
  {
    source: 'variables',
    title: 'a home folder per user: ${aws:username} in Resource and Condition',
    policies: [
      doc(
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringLike: { 's3:prefix': ['${aws:username}/*'] } } },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${BUCKET}/\${aws:username}/*` },
      ),
    ],
    cases: [
      ['s3:GetObject', `${BUCKET}/alice/report.pdf`, { 'aws:username': 'alice' }, A],
      ['s3:GetObject', `${BUCKET}/bob/report.pdf`, { 'aws:username': 'alice' }, N],
      ['s3:PutObject', `${BUCKET}/alice/x`, { 'aws:username': 'alice' }, A],
      ['s3:GetObject', `${BUCKET}/Alice/x`, { 'aws:username': 'alice' }, N],
      ['s3:GetObject', `${BUCKET}/alice/x`, {}, N],
      ['s3:ListBucket', BUCKET, { 'aws:username': 'alice', 's3:prefix': 'alice/docs' }, A],
      ['s3:ListBucket', BUCKET, { 'aws:username': 'alice', 's3:prefix': 'bob/docs' }, N],
      ['s3:ListBucket', BUCKET, { 's3:prefix': 'alice/docs' }, N],
    ],
  },
  {
    source: 'variables',
    title: '${aws:userid} and a variable value is literal text, not a wildcard',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/home/\${aws:userid}/*` })],
    cases: [
      ['s3:GetObject', `${BUCKET}/home/AIDAJQABLZS4A3QDU576Q/x`, { 'aws:userid': 'AIDAJQABLZS4A3QDU576Q' }, A],
      ['s3:GetObject', `${BUCKET}/home/AROAEXAMPLE:alice/x`, { 'aws:userid': 'AROAEXAMPLE:alice' }, A],
      ['s3:GetObject', `${BUCKET}/home/anything/x`, { 'aws:userid': '*' }, N],
      ['s3:GetObject', `${BUCKET}/home/*/x`, { 'aws:userid': '*' }, A],
      ['s3:GetObject', `${BUCKET}/home/ab/x`, { 'aws:userid': 'a?' }, N],
    ],
  },
  {
    source: 'variablesTags',
    title: 'principal tags as variables',
    policies: [
      doc(
        { Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:PrincipalTag/team}/*` },
        { Effect: 'Allow', Action: 'ec2:StartInstances', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/project': '${aws:PrincipalTag/project}' } } },
      ),
    ],
    cases: [
      ['s3:GetObject', `${BUCKET}/red/x`, { 'aws:PrincipalTag/team': 'red' }, A],
      ['s3:GetObject', `${BUCKET}/blue/x`, { 'aws:PrincipalTag/team': 'red' }, N],
      ['s3:GetObject', `${BUCKET}/red/x`, { 'aws:principaltag/TEAM': 'red' }, A],
      ['s3:GetObject', `${BUCKET}/red/x`, {}, N],
      ['ec2:StartInstances', '*', { 'aws:PrincipalTag/project': 'alpha', 'aws:ResourceTag/project': 'alpha' }, A],
      ['ec2:StartInstances', '*', { 'aws:PrincipalTag/project': 'alpha', 'aws:ResourceTag/project': 'beta' }, N],
      ['ec2:StartInstances', '*', { 'aws:ResourceTag/project': 'alpha' }, N],
      ['ec2:StartInstances', '*', { 'aws:PrincipalTag/project': 'alpha' }, N],
    ],
  },
  {
    source: 'variablesNoValue',
    title: 'a multi-valued key cannot be a variable',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:TagKeys}/*` })],
    cases: [
      ['s3:GetObject', `${BUCKET}/a/x`, { 'aws:TagKeys': ['a', 'b'] }, N],
      ['s3:GetObject', `${BUCKET}/${'${aws:TagKeys}'}/x`, { 'aws:TagKeys': ['a', 'b'] }, N],
    ],
  },
  {
    source: 'variablesDefaults',
    title: 'default values: ${aws:PrincipalTag/team, \'company-wide\'}',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:PrincipalTag/team, 'company-wide'}/*` })],
    cases: [
      ['s3:GetObject', `${BUCKET}/company-wide/x`, {}, A],
      ['s3:GetObject', `${BUCKET}/red/x`, { 'aws:PrincipalTag/team': 'red' }, A],
      ['s3:GetObject', `${BUCKET}/company-wide/x`, { 'aws:PrincipalTag/team': 'red' }, N],
      ['s3:GetObject', `${BUCKET}/other/x`, {}, N],
    ],
  },
  {
    source: 'variablesSpecialChars',
    title: '${*}, ${?} and ${$} are the literal characters',
    policies: [doc({ Effect: 'Allow', Action: 's3:*', Resource: [`${BUCKET}/star\${*}`, `${BUCKET}/q\${?}`, `${BUCKET}/cost\${$}`] })],
    cases: [
      ['s3:GetObject', `${BUCKET}/star*`, {}, A],
      ['s3:GetObject', `${BUCKET}/starlight`, {}, N],
      ['s3:GetObject', `${BUCKET}/q?`, {}, A],
      ['s3:GetObject', `${BUCKET}/qx`, {}, N],
      ['s3:GetObject', `${BUCKET}/cost$`, {}, A],
      ['s3:GetObject', `${BUCKET}/cost`, {}, N],
    ],
  },
  {
    source: 'variables',
    title: '${aws:CurrentTime} in a condition value',
    policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { DateLessThan: { 's3:object-lock-retain-until-date': '${aws:CurrentTime}' } } })],
    cases: [
      ['s3:GetObject', '*', { 'aws:CurrentTime': '2020-06-01T00:00:00Z', 's3:object-lock-retain-until-date': '2020-05-01T00:00:00Z' }, A],
      ['s3:GetObject', '*', { 'aws:CurrentTime': '2020-06-01T00:00:00Z', 's3:object-lock-retain-until-date': '2020-07-01T00:00:00Z' }, N],
      ['s3:GetObject', '*', { 's3:object-lock-retain-until-date': '2020-05-01T00:00:00Z' }, N],
    ],
  },
  {
    source: 'variablesVersion',
    title: 'in a 2008-10-17 policy ${…} is plain text',
    policies: [{ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:username}/*` }] }],
    cases: [
      ['s3:GetObject', `${BUCKET}/alice/x`, { 'aws:username': 'alice' }, N],
      ['s3:GetObject', `${BUCKET}/\${aws:username}/x`, { 'aws:username': 'alice' }, A],
    ],
  },
  {
    source: 'variablesVersion',
    title: 'a policy without Version is 2008-10-17',
    policies: [{ Statement: { Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:username}/*` } }],
    cases: [
      ['s3:GetObject', `${BUCKET}/alice/x`, { 'aws:username': 'alice' }, N],
      ['s3:GetObject', `${BUCKET}/\${aws:username}/x`, {}, A],
    ],
  },
  // ---- condition key names ignore case; values do not ----
  onCondition('conditionKeysCase', 'key names are case-insensitive, values are not (StringEquals)', { StringEquals: { 'AWS:USERNAME': 'Alice' } }, [
    [{ 'aws:username': 'Alice' }, A],
    [{ 'aws:UserName': 'Alice' }, A],
    [{ 'aws:username': 'alice' }, N],
  ]),
  // ---- ABAC ----
  {
    source: 'abac',
    title: 'ABAC: principal tag must equal resource tag',
    policies: [
      doc(
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:ResourceTag/access-project': '${aws:PrincipalTag/access-project}', 'aws:ResourceTag/access-team': '${aws:PrincipalTag/access-team}' } },
        },
        { Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' },
      ),
    ],
    cases: [
      ['secretsmanager:GetSecretValue', '*', { 'aws:PrincipalTag/access-project': 'peg', 'aws:PrincipalTag/access-team': 'eng', 'aws:ResourceTag/access-project': 'peg', 'aws:ResourceTag/access-team': 'eng' }, A],
      ['secretsmanager:GetSecretValue', '*', { 'aws:PrincipalTag/access-project': 'peg', 'aws:PrincipalTag/access-team': 'eng', 'aws:ResourceTag/access-project': 'pegasus', 'aws:ResourceTag/access-team': 'eng' }, N],
      ['secretsmanager:GetSecretValue', '*', { 'aws:PrincipalTag/access-project': 'peg', 'aws:PrincipalTag/access-team': 'eng', 'aws:ResourceTag/access-project': 'peg', 'aws:ResourceTag/access-team': 'qa' }, N],
      ['secretsmanager:GetSecretValue', '*', { 'aws:ResourceTag/access-project': 'peg', 'aws:ResourceTag/access-team': 'eng' }, N],
      ['secretsmanager:DescribeSecret', '*', { 'aws:PrincipalTag/access-project': 'uni', 'aws:PrincipalTag/access-team': 'qa', 'aws:ResourceTag/access-project': 'uni', 'aws:ResourceTag/access-team': 'qa' }, A],
      ['secretsmanager:ListSecrets', '*', {}, A],
      ['secretsmanager:DeleteSecret', '*', { 'aws:PrincipalTag/access-project': 'peg', 'aws:ResourceTag/access-project': 'peg' }, N],
    ],
  },
];
