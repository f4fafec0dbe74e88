// `npx tsc -p tsconfig.json && node bench/authorize.mjs`: POST /authorize decisions per second over
// HTTP on `atrium serve` (SQLite), each verifying the gateway's SigV4 signature (role credentials
// with a session token) and evaluating the role's permission set (ReadOnlyAccess,
// AmazonS3FullAccess and AmazonEC2ReadOnlyAccess plus an inline policy with conditions), beside a
// trivial-route baseline from the same run (target ≥ 5,000 decisions/s on 2 cores).
// The signed request is replayed, so the load generator spends no CPU on signing; the server still
// verifies the signature, checks revocation and evaluates on every request.
// Env: BENCH_DURATION (seconds per run, 10), BENCH_WORKERS (`serve --workers`, 1; with more, the
// CPU figures add up every process). Prints one JSON object (also in .bench-results/).

import autocannon from 'autocannon';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../dist/config/config.js';
import { signatureFor } from '../dist/credentials/sigv4.js';
import { createRegistry } from '../dist/registry.js';
import { systemContext } from '../dist/shared/context.js';
import { createLogger } from '../dist/shared/logger.js';
import { BIN, ROOT, cpuSecondsOf, machine, processTree, runJson, startAndWait, stop, treeCpuSeconds } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const CONNECTIONS = 16;
const log = (...a) => console.error('[bench:authorize]', ...a);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

const INLINE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'OwnFolder', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::team-bucket/${aws:username}/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
    { Sid: 'Regions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } },
    { Sid: 'KeepArchive', Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-bucket/*/archive/*' },
  ],
});

/** What a gateway posts: the client's signed PUT as received, and the action and resource it maps to. */
function authorizeBody(creds) {
  const body = '{"payload":true}';
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const headers = { host: 'gateway.example.test', 'content-type': 'application/json', 'x-amz-date': amzDate, 'x-amz-security-token': creds.sessionToken };
  const auth = { accessKeyId: creds.accessKeyId, date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3', signedHeaders: Object.keys(headers).sort(), amzDate };
  const signature = signatureFor({ method: 'PUT', path: '/team-bucket/bench-user/object', query: '', headers, body: Buffer.from(body) }, auth, creds.secretAccessKey);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${auth.date}/us-east-1/s3/aws4_request, SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${signature}`;
  return JSON.stringify({
    Method: 'PUT',
    Path: '/team-bucket/bench-user/object',
    Headers: headers,
    BodySha256: createHash('sha256').update(body).digest('hex'),
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::team-bucket/bench-user/object',
    Context: { 'aws:SecureTransport': true },
  });
}

/** CPU seconds of every thread of the server's processes, summed by thread name (the main threads as `main`). */
function threadCpuSeconds(pid) {
  const out = {};
  for (const p of processTree(pid)) {
    for (const tid of readdirSync(`/proc/${p}/task`).map(Number)) {
      const name = tid === p ? 'main' : readFileSync(`/proc/${p}/task/${tid}/comm`, 'utf8').trim();
      out[name] = (out[name] ?? 0) + cpuSecondsOf(p, tid);
    }
  }
  return out;
}

const results = { machine: machine(), when: new Date().toISOString() };

const basePort = 20000 + Math.floor(Math.random() * 1000);
const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
results.baselineReqPerSec = Math.round((await cannon({ url: `http://127.0.0.1:${basePort}/` })).requests.average);
await stop(base.child);
log('baseline', results.baselineReqPerSec, 'req/s');

const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-authorize-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);
const port = basePort + 1;
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--workers', String(WORKERS)], port);

// The permission set and the role credentials, made in another process on the same database and key file.
const reg = await createRegistry(loadConfig({ dataDir, logLevel: 'silent' }, {}), { log: createLogger('silent') });
const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'bench', 'bench');
const instanceArn = init.instanceArn ?? (await reg.instance.get()).instanceArn;
const ps = await reg.access.permissionSets.create(ctx, { instanceArn, name: 'Bench' });
const target = { instanceArn, permissionSetArn: ps.permissionSetArn };
for (const name of ['ReadOnlyAccess', 'AmazonS3FullAccess', 'AmazonEC2ReadOnlyAccess']) {
  await reg.access.permissionSets.attachManagedPolicy(ctx, { ...target, managedPolicyArn: `arn:aws:iam::aws:policy/${name}` });
}
await reg.access.permissionSets.putInlinePolicy(ctx, { ...target, inlinePolicy: INLINE });
const creds = await reg.temporaryCredentials.issueRoleCredentials(ctx, {
  userId: 'bench-user-id',
  userName: 'bench-user',
  sessionId: 'bench-session',
  accountId: '123456789012',
  permissionSetArn: ps.permissionSetArn,
  roleName: 'AWSReservedSSO_Bench_0123456789abcdef',
  durationSeconds: 3600,
});
await reg.close();

const body = authorizeBody(creds);
const headers = { 'content-type': 'application/json' };
const probe = await fetch(`http://127.0.0.1:${port}/authorize`, { method: 'POST', headers, body });
const probeJson = await probe.json();
if (probe.status !== 200 || probeJson.Decision !== 'Allow') throw new Error(`authorize failed: ${probe.status} ${JSON.stringify(probeJson)}`);

const cpu0 = treeCpuSeconds(server.child.pid);
const threads0 = threadCpuSeconds(server.child.pid);
const run = await cannon({ url: `http://127.0.0.1:${port}/authorize`, method: 'POST', headers, body });
const cpu1 = treeCpuSeconds(server.child.pid);
const threads1 = threadCpuSeconds(server.child.pid);
const served = run.requests.total;
results.authorize = {
  decisionsPerSec: Math.round(run.requests.average),
  p99Ms: run.latency.p99,
  non2xx: run.non2xx,
  errors: run.errors,
  ratioToBaseline: +(run.requests.average / results.baselineReqPerSec).toFixed(3),
  decision: probeJson,
  // CPU per decision is steadier than throughput on a shared machine (see bench/portal.mjs).
  serverCpuMsPerRequest: +(((cpu1.all - cpu0.all) * 1000) / served).toFixed(3),
  mainThreadCpuMsPerRequest: +(((cpu1.main - cpu0.main) * 1000) / served).toFixed(3),
  // Where the rest goes: V8's helper threads (GC, compilers), libuv's pool, workers.
  threadCpuMsPerRequest: Object.fromEntries(
    Object.entries(threads1)
      .map(([name, s]) => [name, +(((s - (threads0[name] ?? 0)) * 1000) / served).toFixed(3)])
      .filter(([, ms]) => ms > 0),
  ),
  workers: WORKERS,
  target: 5000,
};
log('authorize', results.authorize.decisionsPerSec, 'decisions/s; server CPU', results.authorize.serverCpuMsPerRequest, 'ms/request, main thread', results.authorize.mainThreadCpuMsPerRequest);
await stop(server.child);
rmSync(dataDir, { recursive: true, force: true });

const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `authorize-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
