// `npx tsc -p tsconfig.json && node bench/policy-eval.mjs`: in-process IAM policy evaluations per
// second on one core, for a permission set of 3 AWS managed policies (ReadOnlyAccess,
// AmazonS3FullAccess, AmazonEC2ReadOnlyAccess) plus an inline policy of 30 statements with
// conditions, over a mix of allowed, explicitly denied and implicitly denied requests
// (target ≥ 200,000 evaluations/s per core).
// Baseline, same run: the same evaluator on a one-statement policy (`Allow * on *`), i.e. the cost
// of the call itself; the ratio shows what the real permission set adds.
// Env: BENCH_SECONDS (per measurement, 3). Prints one JSON object (also in .bench-results/).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PolicyCache, PolicySet, evaluate } from '../dist/policy/index.js';
import { ROOT, machine } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const log = (...a) => console.error('[bench:policy-eval]', ...a);

const MANAGED = ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonS3FullAccess', 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'];

/** 30 statements, each with a condition, in the shapes real inline policies use. */
function inlinePolicy() {
  const statements = [];
  const services = ['dynamodb', 'sqs', 'sns', 'lambda', 'kms', 'secretsmanager', 'logs', 'cloudwatch', 'ssm', 'ecr'];
  services.forEach((svc, i) => {
    statements.push({
      Sid: `Team${i}`,
      Effect: 'Allow',
      Action: [`${svc}:Get*`, `${svc}:Put*`, `${svc}:Describe*`],
      Resource: `arn:aws:${svc}:*:111122223333:*`,
      Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' }, Bool: { 'aws:SecureTransport': 'true' } },
    });
    statements.push({
      Sid: `Region${i}`,
      Effect: 'Deny',
      Action: `${svc}:*`,
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } },
    });
    statements.push({
      Sid: `Home${i}`,
      Effect: 'Allow',
      Action: [`${svc}:Create*`, `${svc}:Delete*`],
      Resource: `arn:aws:${svc}:us-east-1:111122223333:\${aws:username}-*`,
      Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.0.2.0/24'] }, DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
    });
  });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const context = {
  'aws:username': 'alice',
  'aws:userid': 'AROAEXAMPLE:alice',
  'aws:PrincipalTag/team': 'red',
  'aws:ResourceTag/team': 'red',
  'aws:SecureTransport': true,
  'aws:RequestedRegion': 'us-east-1',
  'aws:SourceIp': '10.1.2.3',
  'aws:CurrentTime': '2026-11-21T12:00:00Z',
};
const REQUESTS = [
  { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/key', context },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::bucket/key', context },
  { action: 'ec2:DescribeInstances', resource: '*', context },
  { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*', context },
  { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:111122223333:table/orders', context },
  { action: 'sqs:DeleteQueue', resource: 'arn:aws:sqs:us-east-1:111122223333:alice-jobs', context },
  { action: 'kms:Decrypt', resource: 'arn:aws:kms:ap-south-1:111122223333:key/abc', context: { ...context, 'aws:RequestedRegion': 'ap-south-1' } },
  { action: 'iam:CreateUser', resource: 'arn:aws:iam::111122223333:user/bob', context },
  { action: 'lambda:InvokeFunction', resource: 'arn:aws:lambda:us-east-1:111122223333:function:f', context },
  { action: 'cloudwatch:GetMetricData', resource: '*', context },
];

function measure(set) {
  const decisions = {};
  for (const r of REQUESTS) decisions[`${r.action}`] = evaluate(set, r).decision;
  // Warm up, then count whole rounds over the request mix for SECONDS.
  for (let i = 0; i < 20_000; i++) evaluate(set, REQUESTS[i % REQUESTS.length]);
  let n = 0;
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 1000; k++) evaluate(set, REQUESTS[k % REQUESTS.length]);
    n += 1000;
  }
  return { evalsPerSec: Math.round(n / ((performance.now() - t0) / 1000)), decisions };
}

const cache = new PolicyCache();
const t0 = performance.now();
const managed = await Promise.all(MANAGED.map((arn) => cache.managed(arn, 'bench')));
const inline = cache.compile('bench#inline', inlinePolicy(), { policyId: 'inline', origin: 'bench' });
const compileMs = Math.round(performance.now() - t0);
const statements = [...managed, inline].reduce((n, p) => n + p.statements.length, 0);
log('compiled', statements, 'statements in', compileMs, 'ms (including decoding the managed-policy bundle)');

const trivial = cache.compile('bench#trivial', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }), { policyId: 'trivial' });
const baseline = measure(new PolicySet([trivial]));
log('baseline (Allow * on *)', baseline.evalsPerSec, 'evals/s');
const real = measure(new PolicySet([...managed, inline]));
log('permission set', real.evalsPerSec, 'evals/s');

const results = {
  machine: machine(),
  when: new Date().toISOString(),
  permissionSet: { managed: MANAGED, inlineStatements: 30, totalStatements: statements, compileMs },
  baselineEvalsPerSec: baseline.evalsPerSec,
  evalsPerSec: real.evalsPerSec,
  ratioToBaseline: +(real.evalsPerSec / baseline.evalsPerSec).toFixed(3),
  target: '>= 200000 evals/s per core',
  decisions: real.decisions,
};
const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, `.bench-results/policy-eval-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
