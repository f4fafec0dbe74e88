// `node bench/signin.mjs` (after `npm run build`): password sign-in throughput over HTTP against
// the raw argon2id verify rate at the same parameters, both measured in this run on this machine.
// Target: sign-in ≥ 90% of the raw rate, so that hashing is the only real cost of a sign-in.
// Env: BENCH_DURATION (seconds of each kind, default 10), BENCH_ROUNDS (alternations, default 5),
// BENCH_CONNECTIONS (default 8), BENCH_WARMUP (seconds of unmeasured load first, default 5).
// Prints one JSON object.

import { verify, hash } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import * as passwordHash from '../dist/auth/password-hash.js';
import { BIN, ROOT, SERVE_NODE_FLAGS, call, cpuSecondsOf, machine, runJson, startAndWait, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const PASSWORD = 'Bench#Sign1n-Pw';
const log = (...a) => console.error('[bench]', ...a);
const { ARGON2_OPTIONS } = passwordHash;
const results = { machine: machine(), when: new Date().toISOString(), argon2: ARGON2_OPTIONS, connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS, warmupSeconds: WARMUP };

// The raw rate: argon2id verify in this process, three ways, and the best of them is the machine's
// raw rate. (a) As many at once as libuv's pool has threads, through the library's async verify;
// (b) as many at once as the machine has cores, the same way (fewer hashes than the pool's threads
// may run faster: they do not take turns on a core, and their memory fights less for the caches);
// (c) one thread of its own per core, each verifying in a loop with the library's verifySync (no
// hopping between the pool's threads). The machine may be shared and its speed may drift, so the
// kinds of window alternate, and each ratio compares totals over the same stretch of time.
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
// Builds from session 18 on hash on threads of their own, one per core; older ones on libuv's pool.
const ON_HASH_THREADS = existsSync(path.join(ROOT, 'dist/auth/hash-threads.js'));
const hashers = ON_HASH_THREADS ? passwordHash.HASHES_AT_ONCE : threads;
const cores = availableParallelism();
const stored = await hash(PASSWORD, ARGON2_OPTIONS);

async function rawVerifies(seconds, atOnce = threads) {
  let verified = 0;
  const cpu0 = cpuSecondsOf(process.pid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: atOnce }, async () => {
      while (performance.now() - start < seconds * 1000) {
        if (!(await verify(stored, PASSWORD))) throw new Error('verify failed');
        verified += 1;
      }
    }),
  );
  return { count: verified, seconds: (performance.now() - start) / 1000, cpu: cpuSecondsOf(process.pid) - cpu0 };
}

// (c): the threads start before the first window and wait for a signal; each window is one message.
const RAW_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { verifySync } = require(workerData.argon2);
parentPort.on('message', ({ seconds, stored, password }) => {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < seconds * 1000) {
    if (!verifySync(stored, password)) throw new Error('verify failed');
    count += 1;
  }
  parentPort.postMessage(count);
});`;
const rawThreads = Array.from({ length: cores }, () => new Worker(RAW_THREAD, { eval: true, workerData: { argon2: createRequire(import.meta.url).resolve('@node-rs/argon2') } }));
async function rawOnThreads(seconds) {
  const cpu0 = cpuSecondsOf(process.pid);
  const start = performance.now();
  const counts = await Promise.all(rawThreads.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage({ seconds, stored, password: PASSWORD });
  })));
  return { count: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - start) / 1000, cpu: cpuSecondsOf(process.pid) - cpu0 };
}

// A server on a fresh SQLite data dir, one user with a password.
const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-signin-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);
const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
const port = 19000 + Math.floor(Math.random() * 1000);
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', { UV_THREADPOOL_SIZE: String(threads) });
await call(port, creds, 'AWSIdentityStore.CreateUser', { IdentityStoreId: init.identityStoreId, UserName: 'bench-signin', DisplayName: 'Bench', Name: { GivenName: 'B', FamilyName: 'S' } });
execFileSync(process.execPath, [BIN, 'user', 'password', '--user-name', 'bench-signin', '--password-stdin', '--data-dir', dataDir], { input: PASSWORD });

// The fair baseline for the HTTP part: a bare Fastify route that only verifies the same password
// against the same hash, with the server's V8 flags and thread pool, driven by the same load
// generator. The load generator shares the cores, so the sign-in windows pay for it and the raw
// windows do not; this route pays for it too.
const hashPort = port + 1000;
const hashServer = await startAndWait([...SERVE_NODE_FLAGS, path.join(ROOT, 'bench/baseline-server.mjs')], hashPort, '/healthz', {
  PORT: String(hashPort),
  UV_THREADPOOL_SIZE: String(threads),
  BASELINE_ARGON2_HASH: stored,
  // As many verifies at once as the server hashes (a build from before the cap has none), and on
  // threads of their own where the server hashes on them.
  ...(passwordHash.HASHES_AT_ONCE ? { BASELINE_HASHES_AT_ONCE: String(passwordHash.HASHES_AT_ONCE) } : {}),
  ...(ON_HASH_THREADS ? { BASELINE_HASH_THREADS: '1' } : {}),
});

// Sign-in: the password step (CSRF token and pre-session cookie from one GET /login).
const login = await fetch(`http://127.0.0.1:${port}/login`);
const cookie = login.headers.getSetCookie()[0].split(';')[0];
const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())[1];
const body = new URLSearchParams({ csrf, return_to: '/start', username: 'bench-signin', password: PASSWORD }).toString();
const posts = (targetPort, seconds) =>
  new Promise((resolve, reject) =>
    autocannon(
      { url: `http://127.0.0.1:${targetPort}/login/password`, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body, connections: CONNECTIONS, duration: seconds },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );

/** CPU seconds of each thread of a process, by thread id. */
const threadCpu = (pid) => new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [Number(tid), cpuSecondsOf(pid, Number(tid))]));
const threadDelta = (before, after) => new Map([...after].map(([tid, cpu]) => [tid, cpu - (before.get(tid) ?? 0)]));

/** One window of POSTs; CPU of the server (all threads, and its main thread) and of this process (the load generator). */
async function postWindow(child, targetPort, seconds) {
  const cpu0 = cpuSecondsOf(child.pid);
  const main0 = cpuSecondsOf(child.pid, child.pid);
  const own0 = cpuSecondsOf(process.pid);
  const threads0 = threadCpu(child.pid);
  const run = await posts(targetPort, seconds);
  return {
    threads: threadDelta(threads0, threadCpu(child.pid)),
    ok: run['3xx'],
    other: run['1xx'] + run['2xx'] + run['4xx'] + run['5xx'] + run.errors + run.timeouts,
    seconds: run.duration,
    p99Ms: run.latency.p99,
    cpu: cpuSecondsOf(child.pid) - cpu0,
    mainCpu: cpuSecondsOf(child.pid, child.pid) - main0,
    loadGenCpu: cpuSecondsOf(process.pid) - own0,
  };
}

const raw = { count: 0, seconds: 0, cpu: 0 };
const rawAtCores = { count: 0, seconds: 0, cpu: 0 };
const rawThreaded = { count: 0, seconds: 0, cpu: 0 };
const addRaw = (total, r) => {
  total.count += r.count;
  total.seconds += r.seconds;
  total.cpu += r.cpu;
};
const sum = () => ({ ok: 0, other: 0, seconds: 0, p99Ms: 0, cpu: 0, mainCpu: 0, loadGenCpu: 0, poolCpu: 0, restCpu: 0 });
const signIn = sum();
const hashRoute = sum();
// Node 20 leaves every thread named "node", so the threads that hash are told apart by their work:
// the `hashers` busiest threads besides the main one in a server's first measured window (the
// hash threads, or libuv's pool in older builds; the audit sealer and V8's threads take a tenth
// as much).
const pools = new Map();
const poolOf = (child, w) => {
  if (!pools.has(child)) {
    const ranked = [...w.threads].filter(([tid]) => tid !== child.pid).sort((a, b) => b[1] - a[1]);
    pools.set(child, new Set(ranked.slice(0, hashers).map(([tid]) => tid)));
  }
  return pools.get(child);
};
const add = (total, w, child) => {
  for (const k of ['ok', 'other', 'seconds', 'cpu', 'mainCpu', 'loadGenCpu']) total[k] += w[k];
  total.p99Ms = Math.max(total.p99Ms, w.p99Ms);
  const pool = poolOf(child, w);
  for (const [tid, cpu] of w.threads) {
    if (pool.has(tid)) total.poolCpu += cpu;
    else if (tid !== child.pid) total.restCpu += cpu;
  }
};
// Warm-up, not measured: the server's JIT compiles its hot paths in the first thousand or so
// sign-ins, on V8's background threads; a fresh process would charge that to the sign-ins.
if (WARMUP > 0) {
  await rawVerifies(Math.min(1, WARMUP));
  poolOf(hashServer.child, await postWindow(hashServer.child, hashPort, Math.min(1, WARMUP)));
  poolOf(server.child, await postWindow(server.child, port, WARMUP));
}

const windowSeconds = DURATION / ROUNDS;
for (let round = 0; round < ROUNDS; round++) {
  const r = await rawVerifies(windowSeconds);
  addRaw(raw, r);
  const rc = cores === threads ? r : await rawVerifies(windowSeconds, cores);
  if (rc !== r) addRaw(rawAtCores, rc);
  const rt = await rawOnThreads(windowSeconds);
  addRaw(rawThreaded, rt);
  const h = await postWindow(hashServer.child, hashPort, windowSeconds);
  add(hashRoute, h, hashServer.child);
  const s = await postWindow(server.child, port, windowSeconds);
  add(signIn, s, server.child);
  log(`round ${round + 1}: raw ${(r.count / r.seconds).toFixed(1)}/s (${cores} at once: ${(rc.count / rc.seconds).toFixed(1)}/s; on ${cores} threads of their own: ${(rt.count / rt.seconds).toFixed(1)}/s), hash route ${(h.ok / h.seconds).toFixed(1)}/s, sign-in ${(s.ok / s.seconds).toFixed(1)}/s`);
}
await Promise.all(rawThreads.map((w) => w.terminate()));
await stop(server.child);
await stop(hashServer.child);
rmSync(dataDir, { recursive: true, force: true });

const perSec = (w) => +(w.ok / w.seconds).toFixed(1);
const msPer = (cpu, n) => +((cpu * 1000) / n).toFixed(2);
results.rawVerifyPerSec = +(raw.count / raw.seconds).toFixed(1);
if (cores !== threads) results.rawAtCores = { atOnce: cores, perSec: +(rawAtCores.count / rawAtCores.seconds).toFixed(1), cpuMsPerVerify: msPer(rawAtCores.cpu, rawAtCores.count) };
results.signIn = { perSec: perSec(signIn), signedIn: signIn.ok, other: signIn.other, worstRoundP99Ms: signIn.p99Ms };
results.ratioToRawVerify = +(results.signIn.perSec / results.rawVerifyPerSec).toFixed(3);
// The same comparison in CPU time, which a busy shared machine disturbs far less than wall time:
// the server's CPU per sign-in against this process's CPU per raw verify.
results.cpuMsPerRawVerify = msPer(raw.cpu, raw.count);
results.cpuMsPerSignIn = msPer(signIn.cpu, signIn.ok);
results.cpuRatio = +(results.cpuMsPerRawVerify / results.cpuMsPerSignIn).toFixed(3);
// Against the machine's best raw rate and cheapest raw verify (either number at once): the stricter figures.
results.rawOnThreads = { threads: cores, perSec: +(rawThreaded.count / rawThreaded.seconds).toFixed(1), cpuMsPerVerify: msPer(rawThreaded.cpu, rawThreaded.count) };
const bestRaw = Math.max(results.rawVerifyPerSec, results.rawAtCores?.perSec ?? 0, results.rawOnThreads.perSec);
const cheapestRaw = Math.min(results.cpuMsPerRawVerify, results.rawAtCores?.cpuMsPerVerify ?? Infinity, results.rawOnThreads.cpuMsPerVerify);
results.ratioToBestRawVerify = +(results.signIn.perSec / bestRaw).toFixed(3);
results.cpuRatioToCheapestRawVerify = +(cheapestRaw / results.cpuMsPerSignIn).toFixed(3);
// Where a sign-in's CPU goes besides hashing: the server's event-loop thread, libuv's thread pool
// (argon2id, and the WAL syncs), its other threads (the audit sealer, V8's compiler and GC), and
// the load generator.
results.signInCpuMs = {
  mainThread: msPer(signIn.mainCpu, signIn.ok),
  threadPool: msPer(signIn.poolCpu, signIn.ok),
  otherThreads: msPer(signIn.restCpu, signIn.ok),
  loadGenerator: msPer(signIn.loadGenCpu, signIn.ok),
};
// Against the bare hash-verifying route: what Atrium adds over the least that a sign-in over HTTP costs.
results.hashRoute = {
  perSec: perSec(hashRoute),
  other: hashRoute.other,
  worstRoundP99Ms: hashRoute.p99Ms,
  cpuMs: msPer(hashRoute.cpu, hashRoute.ok),
  mainThreadCpuMs: msPer(hashRoute.mainCpu, hashRoute.ok),
  threadPoolCpuMs: msPer(hashRoute.poolCpu, hashRoute.ok),
  otherThreadsCpuMs: msPer(hashRoute.restCpu, hashRoute.ok),
  loadGeneratorCpuMs: msPer(hashRoute.loadGenCpu, hashRoute.ok),
};
results.hashRouteRatioToRawVerify = +(results.hashRoute.perSec / results.rawVerifyPerSec).toFixed(3);
results.hashRoute.atOnce = passwordHash.HASHES_AT_ONCE ?? threads;
results.hashRoute.onHashThreads = ON_HASH_THREADS;
results.ratioToHashRoute = +(results.signIn.perSec / results.hashRoute.perSec).toFixed(3);
results.target = 0.9;
log('sign-in', results.signIn, 'raw', results.rawVerifyPerSec, 'ratio', results.ratioToRawVerify, 'cpu ratio', results.cpuRatio, 'hash route', results.hashRoute.perSec, 'ratio to hash route', results.ratioToHashRoute);
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
