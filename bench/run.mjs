// `npm run bench`: the performance targets, each beside a baseline measured in this run.
//   - baseline: a trivial Fastify route (autocannon, same connections and duration)
//   - identitystore CreateUser over HTTP with SigV4 on SQLite (target ≥ 2,000 req/s on 2 cores)
//   - ListUsers with a UserName filter over N users (default 100,000): p50/p99 (target p99 ≤ 10 ms)
//   - 1,000 CreateAccountAssignment calls until all SUCCEEDED (target ≤ 10 s)
//   - server RSS after all of that (target ≤ 150 MB); cold start to /healthz 200 (target ≤ 1.5 s)
// Env: BENCH_USERS (100000), BENCH_DURATION (seconds per throughput run, 10), BENCH_ASSIGNMENTS (1000).
// Prints one JSON object (also written to .bench-results/<time>.json).

import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, ROOT, call, machine, percentile, rssMiB, runJson, signedHeaders, startAndWait, stop } from './lib.mjs';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ASSIGNMENTS = Number(process.env.BENCH_ASSIGNMENTS ?? 1000);
const CONNECTIONS = 16;
const log = (...a) => console.error('[bench]', ...a);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

const results = { machine: machine(), when: new Date().toISOString() };

// 1. Baseline: trivial Fastify route.
const basePort = 18000 + Math.floor(Math.random() * 1000);
const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
results.baselineColdStartMs = Math.round(base.ms);
const baseRun = await cannon({ url: `http://127.0.0.1:${basePort}/`, duration: DURATION });
results.baselineReqPerSec = Math.round(baseRun.requests.average);
await stop(base.child);
log('baseline', results.baselineReqPerSec, 'req/s');

// 2. Atrium on a fresh SQLite data dir.
const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);
const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
const port = basePort + 1;
let server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port);

// CreateUser throughput, with a fresh signature per request (signing cost is on the client side).
let n = 0;
const createUser = () => {
  n += 1;
  const name = `bench-user-${n}`;
  const body = JSON.stringify({ IdentityStoreId: init.identityStoreId, UserName: name, DisplayName: `Bench User ${n}`, Name: { GivenName: 'Bench', FamilyName: `User${n}` } });
  return { method: 'POST', path: '/', headers: signedHeaders(port, creds, 'AWSIdentityStore.CreateUser', body), body };
};
const createRun = await cannon({ url: `http://127.0.0.1:${port}`, duration: DURATION, requests: [{ setupRequest: () => createUser() }] });
results.createUser = {
  reqPerSec: Math.round(createRun.requests.average),
  non2xx: createRun.non2xx,
  errors: createRun.errors,
  ratioToBaseline: +(createRun.requests.average / results.baselineReqPerSec).toFixed(3),
};
log('CreateUser', results.createUser);

// Fill up to USERS users (as fast as the API takes them), then time filtered ListUsers.
if (n < USERS) {
  log(`creating users up to ${USERS}…`);
  await cannon({ url: `http://127.0.0.1:${port}`, amount: USERS - n, requests: [{ setupRequest: () => createUser() }] });
}
const total = n;
const latencies = [];
for (let i = 0; i < 2000; i++) {
  const name = `bench-user-${1 + Math.floor(Math.random() * total)}`;
  const body = JSON.stringify({ IdentityStoreId: init.identityStoreId, Filters: [{ AttributePath: 'UserName', AttributeValue: name }] });
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: signedHeaders(port, creds, 'AWSIdentityStore.ListUsers', body), body });
  const json = await res.json();
  latencies.push(performance.now() - t0);
  if (json.Users?.length !== 1) throw new Error(`ListUsers for ${name} returned ${JSON.stringify(json).slice(0, 200)}`);
}
latencies.sort((a, b) => a - b);
// The baseline for latency: the same loop against a trivial route.
const bl = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
const baseLat = [];
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now();
  await (await fetch(`http://127.0.0.1:${basePort}/`)).json();
  baseLat.push(performance.now() - t0);
}
await stop(bl.child);
baseLat.sort((a, b) => a - b);
results.listUsersFiltered = {
  users: total,
  p50Ms: +percentile(latencies, 50).toFixed(2),
  p99Ms: +percentile(latencies, 99).toFixed(2),
  baselineP50Ms: +percentile(baseLat, 50).toFixed(2),
  baselineP99Ms: +percentile(baseLat, 99).toFixed(2),
};
log('ListUsers filtered', results.listUsersFiltered);

// 1,000 CreateAccountAssignment calls until all SUCCEEDED.
const ps = await call(port, creds, 'SWBExternalService.CreatePermissionSet', { InstanceArn: init.instanceArn, Name: 'BenchPS' });
const principals = [];
for (let i = 0; i < ASSIGNMENTS; i++) {
  const g = await call(port, creds, 'AWSIdentityStore.CreateGroup', { IdentityStoreId: init.identityStoreId, DisplayName: `bench-group-${i}` });
  principals.push(g.GroupId);
}
const t0 = performance.now();
let next = 0;
const requestIds = [];
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (next < principals.length) {
      const id = principals[next++];
      const out = await call(port, creds, 'SWBExternalService.CreateAccountAssignment', {
        InstanceArn: init.instanceArn, TargetId: init.managementAccountId, TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: ps.PermissionSet.PermissionSetArn, PrincipalType: 'GROUP', PrincipalId: id,
      });
      requestIds.push(out.AccountAssignmentCreationStatus.RequestId);
    }
  }),
);
const submittedMs = performance.now() - t0;
const countSucceeded = async () => {
  let count = 0;
  let token;
  do {
    const page = await call(port, creds, 'SWBExternalService.ListAccountAssignmentCreationStatus', { InstanceArn: init.instanceArn, Filter: { Status: 'SUCCEEDED' }, MaxResults: 100, ...(token ? { NextToken: token } : {}) });
    count += page.AccountAssignmentsCreationStatus.length;
    token = page.NextToken;
  } while (token);
  return count;
};
let succeeded = 0;
while ((succeeded = await countSucceeded()) < ASSIGNMENTS && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
results.createAccountAssignments = { count: ASSIGNMENTS, succeeded, submittedMs: Math.round(submittedMs), allSucceededMs: Math.round(performance.now() - t0) };
log('CreateAccountAssignment', results.createAccountAssignments);

results.rssMiBAfterRuns = rssMiB(server.child.pid);
await stop(server.child);

// Cold start to a 200 from /healthz on the data just written (median of 5), beside the baseline's.
const starts = [];
for (let i = 0; i < 5; i++) {
  server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port);
  starts.push(server.ms);
  await stop(server.child);
}
const baseStarts = [];
for (let i = 0; i < 5; i++) {
  const b = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
  baseStarts.push(b.ms);
  await stop(b.child);
}
starts.sort((a, b) => a - b);
baseStarts.sort((a, b) => a - b);
results.coldStart = { medianMs: Math.round(starts[2]), baselineMedianMs: Math.round(baseStarts[2]) };
rmSync(dataDir, { recursive: true, force: true });

const out = JSON.stringify(results, null, 2);
console.log(out);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `${results.when.replace(/[:.]/g, '-')}.json`), out);
