// `npm run build && node bench/portal.mjs`: the sso portal's GetRoleCredentials (target ≥ 3,000
// req/s on 2 cores with SQLite, p99 ≤ 15 ms), beside a trivial-route baseline from the same run.
//   - baseline: a trivial Fastify route (autocannon, same connections and duration)
//   - GetRoleCredentials on `atrium serve` over SQLite: every request resolves the bearer token,
//     reads the user's assignments live, and issues and audits a credential
// The user, permission set and assignment are made through the admin API; the device code is
// approved from another process on the same database, as the verification page would.
// Env: BENCH_DURATION (seconds per run, 10), BENCH_WARMUP (seconds of unmeasured load first, 3),
// BENCH_WORKERS (`serve --workers`, 1; with more, the CPU figures add up every process). Prints one JSON object (also written to
// .bench-results/portal-<time>.json).

import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../dist/config/config.js';
import { createRegistry } from '../dist/registry.js';
import { OidcService, DEVICE_CODE_GRANT } from '../dist/protocols/oidc/index.js';
import { systemContext } from '../dist/shared/context.js';
import { createLogger } from '../dist/shared/logger.js';
import { BIN, ROOT, call, machine, runJson, startAndWait, stop, treeCpuSeconds } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = 16;
const log = (...a) => console.error('[bench:portal]', ...a);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${url} failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// The host's load average before and after: on a shared machine, figures are only comparable at like load.
const results = { machine: machine(), when: new Date().toISOString(), loadAverageBefore: loadavg().map((l) => +l.toFixed(2)) };

const basePort = 20000 + Math.floor(Math.random() * 1000);
const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
const baseline = await cannon({ url: `http://127.0.0.1:${basePort}/` });
results.baselineReqPerSec = Math.round(baseline.requests.average);
results.baselineP99Ms = baseline.latency.p99;
await stop(base.child);
log('baseline', results.baselineReqPerSec, 'req/s');

const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-portal-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);
const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
const port = basePort + 1;
const url = `http://127.0.0.1:${port}`;
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--workers', String(WORKERS)], port);

try {
  const user = await call(port, creds, 'AWSIdentityStore.CreateUser', {
    IdentityStoreId: init.identityStoreId, UserName: 'bench-user', DisplayName: 'Bench User', Name: { GivenName: 'Bench', FamilyName: 'User' },
  });
  const ps = await call(port, creds, 'SWBExternalService.CreatePermissionSet', { InstanceArn: init.instanceArn, Name: 'BenchPS', SessionDuration: 'PT1H' });
  const accountId = init.managementAccountId;
  const created = await call(port, creds, 'SWBExternalService.CreateAccountAssignment', {
    InstanceArn: init.instanceArn, TargetId: accountId, TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: ps.PermissionSet.PermissionSetArn, PrincipalType: 'USER', PrincipalId: user.UserId,
  });
  for (let status = 'IN_PROGRESS'; status === 'IN_PROGRESS'; ) {
    await new Promise((r) => setTimeout(r, 50));
    const d = await call(port, creds, 'SWBExternalService.DescribeAccountAssignmentCreationStatus', {
      InstanceArn: init.instanceArn, AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus.RequestId,
    });
    status = d.AccountAssignmentCreationStatus.Status;
    if (status === 'FAILED') throw new Error('the assignment failed');
  }

  const client = await postJson(`${url}/client/register`, { clientName: 'bench', clientType: 'public', scopes: ['sso:account:access'] });
  const device = await postJson(`${url}/device_authorization`, { clientId: client.clientId, clientSecret: client.clientSecret, startUrl: `${url}/start` });
  const reg = await createRegistry(loadConfig({ dataDir, logLevel: 'silent' }, {}), { log: createLogger('silent') });
  // The device page's answer, given in process: the bench has no browser to sign in with.
  const oidc = new OidcService({
    tx: reg.tx, read: reg.read, clock: reg.clock, ids: reg.ids, envelope: reg.envelope, audit: reg.audit,
    instance: reg.instance, directory: reg.directory, region: 'us-east-1', publicUrl: () => url, renderError: () => '',
  });
  await oidc.approveDevice(systemContext('sso.amazonaws.com', 'us-east-1', 'bench', 'bench'), device.userCode, { userId: user.UserId, userName: 'bench-user' }, 'approve');
  await reg.close();
  const { accessToken } = await postJson(`${url}/token`, { clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode: device.deviceCode });

  const target = `${url}/federation/credentials?role_name=BenchPS&account_id=${accountId}`;
  const headers = { 'x-amz-sso_bearer_token': accessToken };
  const probe = await fetch(target, { headers });
  const probeJson = await probe.json();
  if (probe.status !== 200 || !probeJson.roleCredentials?.accessKeyId?.startsWith('ASIA')) throw new Error(`GetRoleCredentials failed: ${probe.status} ${JSON.stringify(probeJson)}`);

  // Warm-up, not measured: a fresh server compiles its hot paths during its first thousands of
  // requests, on V8's background threads, which take the cores from the measured run otherwise.
  if (WARMUP > 0) await cannon({ url: target, headers, duration: WARMUP });
  const pid = server.child.pid;
  const cpu0 = treeCpuSeconds(pid);
  const run = await cannon({ url: target, headers });
  const served = run.requests.total;
  const cpu1 = treeCpuSeconds(pid);
  results.getRoleCredentials = {
    reqPerSec: Math.round(run.requests.average),
    p50Ms: run.latency.p50,
    p99Ms: run.latency.p99,
    non2xx: run.non2xx,
    errors: run.errors,
    ratioToBaseline: +(run.requests.average / results.baselineReqPerSec).toFixed(3),
    // CPU per request is steadier than throughput on a shared machine: the event-loop thread's
    // share is what bounds one process's rate (1000 / mainCpuMs req/s at best).
    workers: WORKERS,
    serverCpuMsPerRequest: +(((cpu1.all - cpu0.all) * 1000) / served).toFixed(3),
    mainThreadCpuMsPerRequest: +(((cpu1.main - cpu0.main) * 1000) / served).toFixed(3),
    target: { reqPerSec: 3000, p99Ms: 15 },
  };
  const g = results.getRoleCredentials;
  log('GetRoleCredentials', g.reqPerSec, 'req/s, p99', g.p99Ms, 'ms; server CPU', g.serverCpuMsPerRequest, 'ms/request, main thread', g.mainThreadCpuMsPerRequest, '; load', loadavg()[0].toFixed(2));
} finally {
  await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}

results.loadAverageAfter = loadavg().map((l) => +l.toFixed(2));
const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `portal-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
