// `node bench/signin.mjs` (after `npm run build`): password sign-in throughput over HTTP against
// the raw argon2id verify rate at the same parameters, both measured in this run on this machine.
// Target: sign-in ≥ 90% of the raw rate, so that hashing is the only real cost of a sign-in.
// Env: BENCH_DURATION (seconds of each kind, default 10), BENCH_ROUNDS (alternations, default 5),
// BENCH_CONNECTIONS (default 8).
// Prints one JSON object.

import { verify, hash } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ARGON2_OPTIONS } from '../dist/auth/password-hash.js';
import { BIN, call, machine, runJson, startAndWait, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PASSWORD = 'Bench#Sign1n-Pw';
const log = (...a) => console.error('[bench]', ...a);
const results = { machine: machine(), when: new Date().toISOString(), argon2: ARGON2_OPTIONS, connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS };

// The raw rate: argon2id verify in this process, as many at once as the server's thread pool runs.
// The machine may be shared and its speed may drift, so raw and sign-in windows alternate, and the
// ratio compares their totals over the same stretch of time.
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const stored = await hash(PASSWORD, ARGON2_OPTIONS);
/** CPU seconds a process has used (user + system), from /proc. */
function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rawVerifies(seconds) {
  let verified = 0;
  const cpu0 = cpuSecondsOf(process.pid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (performance.now() - start < seconds * 1000) {
        if (!(await verify(stored, PASSWORD))) throw new Error('verify failed');
        verified += 1;
      }
    }),
  );
  return { count: verified, seconds: (performance.now() - start) / 1000, cpu: cpuSecondsOf(process.pid) - cpu0 };
}

// A server on a fresh SQLite data dir, one user with a password.
const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-signin-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);
const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
const port = 19000 + Math.floor(Math.random() * 1000);
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', { UV_THREADPOOL_SIZE: String(threads) });
await call(port, creds, 'AWSIdentityStore.CreateUser', { IdentityStoreId: init.identityStoreId, UserName: 'bench-signin', DisplayName: 'Bench', Name: { GivenName: 'B', FamilyName: 'S' } });
execFileSync(process.execPath, [BIN, 'user', 'password', '--user-name', 'bench-signin', '--password-stdin', '--data-dir', dataDir], { input: PASSWORD });

// Sign-in: the password step (CSRF token and pre-session cookie from one GET /login).
const login = await fetch(`http://127.0.0.1:${port}/login`);
const cookie = login.headers.getSetCookie()[0].split(';')[0];
const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())[1];
const body = new URLSearchParams({ csrf, return_to: '/start', username: 'bench-signin', password: PASSWORD }).toString();
const signIns = (seconds) =>
  new Promise((resolve, reject) =>
    autocannon(
      { url: `http://127.0.0.1:${port}/login/password`, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body, connections: CONNECTIONS, duration: seconds },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );

const raw = { count: 0, seconds: 0, cpu: 0 };
const signIn = { signedIn: 0, other: 0, seconds: 0, p99Ms: 0, cpu: 0 };
const windowSeconds = DURATION / ROUNDS;
for (let round = 0; round < ROUNDS; round++) {
  const r = await rawVerifies(windowSeconds);
  raw.count += r.count;
  raw.seconds += r.seconds;
  raw.cpu += r.cpu;
  const cpu0 = cpuSecondsOf(server.child.pid);
  const run = await signIns(windowSeconds);
  signIn.cpu += cpuSecondsOf(server.child.pid) - cpu0;
  signIn.signedIn += run['3xx'];
  signIn.other += run['1xx'] + run['2xx'] + run['4xx'] + run['5xx'] + run.errors + run.timeouts;
  signIn.seconds += run.duration;
  signIn.p99Ms = Math.max(signIn.p99Ms, run.latency.p99);
  log(`round ${round + 1}: raw ${(r.count / r.seconds).toFixed(1)}/s, sign-in ${(run['3xx'] / run.duration).toFixed(1)}/s`);
}
await stop(server.child);
rmSync(dataDir, { recursive: true, force: true });

results.rawVerifyPerSec = +(raw.count / raw.seconds).toFixed(1);
results.signIn = { perSec: +(signIn.signedIn / signIn.seconds).toFixed(1), signedIn: signIn.signedIn, other: signIn.other, worstRoundP99Ms: signIn.p99Ms };
results.ratioToRawVerify = +(results.signIn.perSec / results.rawVerifyPerSec).toFixed(3);
// The same comparison in CPU time, which a busy shared machine disturbs far less than wall time:
// the server's CPU per sign-in against this process's CPU per raw verify.
results.cpuMsPerRawVerify = +((raw.cpu * 1000) / raw.count).toFixed(2);
results.cpuMsPerSignIn = +((signIn.cpu * 1000) / signIn.signedIn).toFixed(2);
results.cpuRatio = +(results.cpuMsPerRawVerify / results.cpuMsPerSignIn).toFixed(3);
results.target = 0.9;
log('sign-in', results.signIn, 'raw', results.rawVerifyPerSec, 'ratio', results.ratioToRawVerify, 'cpu ratio', results.cpuRatio);
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
