// `node bench/audit.mjs` (after `npm run build`): the audit log's performance targets.
//   - CreateUser throughput with auditing on, against the same run with it off
//     (ATRIUM_BENCH_AUDIT_OFF=1, a switch for this bench only): target cost <= 15 %.
//     Two servers run side by side and take the load in turn, in short slices ordered
//     off/on/on/off…, so that a noisy neighbour hits both alike (see part 1 below). Besides the
//     cost over the totals (auditCost), it reports the median of the per-pair costs, and the cost
//     in server CPU per request (what throughput would show on a CPU-bound server).
//   - LookupEvents with filters over BENCH_AUDIT_EVENTS events (default 1,000,000): p50/p99 over
//     HTTP with SigV4, one call at a time: target p99 <= 50 ms. SQLite, and PostgreSQL when
//     BENCH_DATABASE_URL is set (a database the bench may fill).
//   - The sealer's throughput chaining those events (events/s), for the record.
// Env: BENCH_SLICE (seconds per slice of load, 10), BENCH_ROUNDS (off/on pairs, 8), BENCH_WARMUP
//      (seconds of unmeasured load per server first, 3), BENCH_SEAL_MS (how often both servers
//      seal, 1000: Atrium's default), BENCH_CONNECTIONS (CreateUser connections, 16),
//      BENCH_AUDIT_EVENTS (1000000), BENCH_LOOKUPS (1000; 0 skips LookupEvents), BENCH_DATABASE_URL.
//      To compare two settings instead of auditing off and on (an A/B of a change to auditing, in
//      the same interleaved slices): BENCH_OFF_ENV and BENCH_ON_ENV add environment variables (a
//      JSON object) to the "off" and the "on" server, and BENCH_BASELINE_AUDITED=1 leaves auditing
//      on in the "off" one. The costs then read as the "on" setting's against the "off" one's.
// Prints one JSON object (also written to .bench-results/audit-<time>.json).

import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BIN, ROOT, call, cpuSecondsOf, createUserRequests, machine, percentile, runJson, startAndWait, stop } from './lib.mjs';
import { loadConfig } from '../dist/config/config.js';
import { createRegistry } from '../dist/registry.js';
import { createLogger } from '../dist/shared/logger.js';
import { cryptoIds, timeOrderedUuid } from '../dist/shared/ids.js';

const SLICE = Number(process.env.BENCH_SLICE ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1) throw new Error('BENCH_CONNECTIONS must be a whole number of connections, 1 or more');
const log = (...a) => console.error('[bench:audit]', ...a);
/** Extra environment for one of the two servers of part 1: a JSON object of strings. */
function envFrom(name) {
  const text = process.env[name];
  if (!text) return {};
  const env = JSON.parse(text);
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw new Error(`${name} must be a JSON object of strings, such as {"ATRIUM_AUDIT_SEAL_MS":"1000"}`);
  }
  return env;
}
const OFF_ENV = envFrom('BENCH_OFF_ENV');
const ON_ENV = envFrom('BENCH_ON_ENV');
const BASELINE_AUDITED = process.env.BENCH_BASELINE_AUDITED === '1';
const results = { machine: machine(), when: new Date().toISOString() };
let nextPort = 19000 + Math.floor(Math.random() * 1000);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

// ---- 1. CreateUser with auditing on and off, interleaved ----
// Both servers run side by side for the whole measurement, each on its own fresh database, and the
// load goes to one at a time in short slices, in the order off, on, on, off, off, on…: the host's
// speed on a shared machine changes within seconds, and slices this short and this ordered see the
// same machine on both sides. Auditing's work that is not done inside the request (the sealer
// chains and indexes the events on its own thread) must fall inside the slice that caused it:
// both servers seal every SEAL_MS, by default Atrium's own default of a second, and a slice lasts
// ten of them, so that at most a tenth of a slice's events are sealed after it; after each slice
// the bench waits until the sealer has chained every event of it, and charges that time's CPU to
// the slice (auditCpuThroughputCost counts all of the sealing, whatever falls outside the slice).
// Until session 11 the bench sealed every 100 ms in 3 s slices: a setting nobody runs, and
// 3–7 points dearer in throughput than the default (bench/README.md, "Session 11").
const SEAL_MS = Number(process.env.BENCH_SEAL_MS ?? 1000);

/** A server for part 1, warmed up; `auditOff` sets the bench-only switch. */
async function createUserServer(auditOff) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-audit-'));
  const env = {
    ATRIUM_AUDIT_SEAL_MS: String(SEAL_MS),
    ...(auditOff && !BASELINE_AUDITED ? { ATRIUM_BENCH_AUDIT_OFF: '1' } : {}),
    ...(auditOff ? OFF_ENV : ON_ENV),
  };
  const init = runJson(['init', '--data-dir', dataDir, '--json'], env);
  const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
  const port = nextPort++;
  const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', env);
  // Read-only, on the side: how far the sealer has got.
  const db = new Database(path.join(dataDir, 'atrium.db'), { readonly: true, fileMustExist: true });
  // The sealer's own file (since migration 0023; a build from before has one file).
  const auditFile = path.join(dataDir, 'atrium-audit.db');
  if (existsSync(auditFile)) db.prepare('attach ? as audit').run(auditFile);
  const unsealed = db.prepare('select (select coalesce(max(seq), 0) from audit_events) - (select watermark from audit_sealer) as n');
  const requests = createUserRequests(port, creds, init.identityStoreId);
  const s = { auditOff, port, server, requests, dataDir, db, unsealed, slices: [] };
  await cannon({ url: `http://127.0.0.1:${port}`, duration: WARMUP, requests: [{ setupRequest: requests.setupRequest }] });
  await drained(s);
  return s;
}

/** Until the sealer has chained every event written (at once with auditing off: nothing is written). */
async function drained(s) {
  const t0 = performance.now();
  while (s.unsealed.get().n > 0) {
    if (performance.now() - t0 > 60_000) throw new Error('the audit sealer did not catch up within 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One slice of load on one server; its CPU is counted until its events are sealed. */
async function slice(s) {
  const pid = s.server.child.pid;
  const cpu0 = cpuSecondsOf(pid);
  const main0 = cpuSecondsOf(pid, pid);
  const made = s.requests.count();
  const run = await cannon({ url: `http://127.0.0.1:${s.port}`, duration: SLICE, requests: [{ setupRequest: s.requests.setupRequest }] });
  await drained(s);
  const n = s.requests.count() - made;
  const perRequest = (seconds) => (seconds * 1000) / n;
  s.slices.push({
    reqPerSec: run.requests.average,
    cpuMsPerRequest: perRequest(cpuSecondsOf(pid) - cpu0),
    mainThreadCpuMsPerRequest: perRequest(cpuSecondsOf(pid, pid) - main0),
    non2xx: run.non2xx,
    errors: run.errors,
  });
}

const loadAverage = { before: +loadavg()[0].toFixed(2) };
const offServer = await createUserServer(true);
const onServer = await createUserServer(false);
for (let i = 0; i < ROUNDS; i++) {
  // off, on, then on, off: a trend in the host's speed falls on both alike.
  for (const s of i % 2 === 0 ? [offServer, onServer] : [onServer, offServer]) await slice(s);
  const [o, a] = [offServer.slices.at(-1), onServer.slices.at(-1)];
  log(`pair ${i + 1}: off ${Math.round(o.reqPerSec)} req/s (${o.cpuMsPerRequest.toFixed(3)} CPU ms/req), on ${Math.round(a.reqPerSec)} req/s (${a.cpuMsPerRequest.toFixed(3)} CPU ms/req)`);
}
loadAverage.after = +loadavg()[0].toFixed(2);
for (const s of [offServer, onServer]) {
  s.db.close();
  await stop(s.server.child);
  rmSync(s.dataDir, { recursive: true, force: true });
}
const off = offServer.slices;
const on = onServer.slices;
const mean = (runs, key = 'reqPerSec') => runs.reduce((a, r) => a + r[key], 0) / runs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round3 = (x) => +x.toFixed(3);
// Per off/on pair: the throughput lost, and the share of CPU per request that auditing adds.
const pairs = off.map((o, i) => ({
  cost: round3(1 - on[i].reqPerSec / o.reqPerSec),
  cpuCost: round3(1 - o.cpuMsPerRequest / on[i].cpuMsPerRequest),
}));
const rounded = (runs) => runs.map((r) => ({ ...r, reqPerSec: Math.round(r.reqPerSec), cpuMsPerRequest: round3(r.cpuMsPerRequest), mainThreadCpuMsPerRequest: round3(r.mainThreadCpuMsPerRequest) }));
results.createUser = {
  method: `${ROUNDS} off/on pairs of ${SLICE} s slices of CreateUser (${CONNECTIONS} connections) on two live servers, interleaved off-on-on-off; both seal every ${SEAL_MS} ms, and a slice's CPU runs until its events are sealed`,
  ...(BASELINE_AUDITED || Object.keys(OFF_ENV).length > 0 || Object.keys(ON_ENV).length > 0
    ? { comparison: { baselineAudited: BASELINE_AUDITED, offEnv: OFF_ENV, onEnv: ON_ENV, note: 'an A/B of settings: "off" and "on" name the two servers, not auditing' } }
    : {}),
  auditOffReqPerSec: Math.round(mean(off)),
  auditOnReqPerSec: Math.round(mean(on)),
  // Over the totals (the figure).
  auditCost: round3(1 - mean(on) / mean(off)),
  // The median of the per-pair costs.
  auditCostMedian: round3(median(pairs.map((p) => p.cost))),
  // What throughput would show on a CPU-bound server: 1 − CPU per request off ÷ on, over the
  // totals and as the median of the pairs.
  auditCpuThroughputCost: round3(1 - mean(off, 'cpuMsPerRequest') / mean(on, 'cpuMsPerRequest')),
  auditCpuThroughputCostMedian: round3(median(pairs.map((p) => p.cpuCost))),
  // CPU per request with auditing on ÷ off, − 1 (the same measure, as an increase).
  auditCpuCost: round3(mean(on, 'cpuMsPerRequest') / mean(off, 'cpuMsPerRequest') - 1),
  cpuMsPerRequest: { off: round3(mean(off, 'cpuMsPerRequest')), on: round3(mean(on, 'cpuMsPerRequest')) },
  mainThreadCpuMsPerRequest: { off: round3(mean(off, 'mainThreadCpuMsPerRequest')), on: round3(mean(on, 'mainThreadCpuMsPerRequest')) },
  pairs,
  runs: { off: rounded(off), on: rounded(on) },
  loadAverage,
  target: 'auditCost <= 0.15',
};
log('createUser', JSON.stringify({ ...results.createUser, runs: undefined }));

// ---- 2. LookupEvents over a large log ----
const NAMES = ['CreateUser', 'UpdateUser', 'DeleteUser', 'CreateGroup', 'UpdateGroup', 'DeleteGroup', 'CreateGroupMembership', 'DeleteGroupMembership',
  'CreatePermissionSet', 'UpdatePermissionSet', 'CreateAccountAssignment', 'DeleteAccountAssignment', 'CredentialChallenge', 'CredentialVerification',
  'UserAuthentication', 'GetRoleCredentials', 'Logout', 'UpdatePassword', 'CreateToken', 'TagResource'];
const SOURCES = ['identitystore.amazonaws.com', 'sso.amazonaws.com', 'signin.amazonaws.com', 'organizations.amazonaws.com', 'scim.atrium.local'];
const USERS = 1000;
const RESOURCES = 100_000;
const SPAN_MS = 90 * 86_400_000;
const pick = (a) => a[Math.floor(Math.random() * a.length)];

async function lookupBench(label, databaseUrl) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-lookup-'));
  const storage = ['--data-dir', dataDir, ...(databaseUrl ? ['--database-url', databaseUrl] : [])];
  const init = runJson(['init', ...storage, '--json']);
  const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
  const config = loadConfig({ dataDir, databaseUrl, logLevel: 'silent' }, {});
  const reg = await createRegistry(config, { log: createLogger('silent') });
  const now = Date.now();
  const t0 = performance.now();
  const BATCH = 500;
  // Some event ids, to look up by EventId.
  const someIds = [];
  for (let done = 0; done < EVENTS; done += BATCH) {
    const batch = [];
    for (let i = 0; i < Math.min(BATCH, EVENTS - done); i++) {
      const user = `user-${Math.floor(Math.random() * USERS)}`;
      const userId = `res-${Math.floor(Math.random() * RESOURCES)}`;
      const eventTime = now - SPAN_MS + Math.floor(((done + i) / EVENTS) * SPAN_MS);
      batch.push({
        eventId: timeOrderedUuid(cryptoIds, eventTime),
        eventTime,
        eventSource: pick(SOURCES),
        eventName: pick(NAMES),
        awsRegion: 'us-east-1',
        sourceIPAddress: '10.0.0.1',
        userAgent: 'bench',
        userIdentity: { type: 'IAMUser', principalId: user, userName: user, accessKeyId: `AKIA${String(Math.floor(Math.random() * USERS)).padStart(16, '0')}` },
        requestParameters: { identityStoreId: init.identityStoreId, userId },
        responseElements: null,
        requestID: randomUUID(),
        readOnly: false,
        eventType: 'AwsApiCall',
      });
    }
    someIds.push(batch[0].eventId);
    await reg.tx.transaction((s) => s.audit.appendEvents(batch));
    if ((done / BATCH) % 200 === 0) log(`${label}: ${done} events written`);
  }
  const writeSeconds = (performance.now() - t0) / 1000;
  const s0 = performance.now();
  const chained = await reg.auditTrail.sealOnce({ forceDigest: true });
  const sealSeconds = (performance.now() - s0) / 1000;
  await reg.close();
  log(`${label}: wrote ${EVENTS} in ${writeSeconds.toFixed(0)} s, sealed ${chained} in ${sealSeconds.toFixed(0)} s`);

  const port = nextPort++;
  const server = await startAndWait([BIN, 'serve', ...storage, '--port', String(port)], port);
  const target = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';
  const attr = (AttributeKey, AttributeValue) => ({ AttributeKey, AttributeValue });
  const queries = [
    ['none', () => ({})],
    ['eventName', () => ({ LookupAttributes: [attr('EventName', pick(NAMES))] })],
    ['eventId', () => ({ LookupAttributes: [attr('EventId', pick(someIds))] })],
    ['username', () => ({ LookupAttributes: [attr('Username', `user-${Math.floor(Math.random() * USERS)}`)] })],
    ['resourceName', () => ({ LookupAttributes: [attr('ResourceName', `res-${Math.floor(Math.random() * RESOURCES)}`)] })],
    ['eventSource', () => ({ LookupAttributes: [attr('EventSource', pick(SOURCES))] })],
    ['eventName+username', () => ({ LookupAttributes: [attr('EventName', pick(NAMES)), attr('Username', `user-${Math.floor(Math.random() * USERS)}`)] })],
    ['timeRange', () => {
      const start = now - SPAN_MS + Math.random() * SPAN_MS;
      return { StartTime: start / 1000, EndTime: (start + 3_600_000) / 1000 };
    }],
    ['eventName+timeRange', () => {
      const start = now - SPAN_MS + Math.random() * SPAN_MS;
      return { LookupAttributes: [attr('EventName', pick(NAMES))], StartTime: start / 1000, EndTime: (start + 86_400_000) / 1000 };
    }],
  ];
  // Warm-up, unmeasured.
  for (let i = 0; i < 50; i++) await call(port, creds, target, queries[i % queries.length][1]());
  const all = [];
  const byKind = {};
  for (let i = 0; i < LOOKUPS; i++) {
    const [kind, make] = queries[i % queries.length];
    const input = make();
    const t = performance.now();
    const out = await call(port, creds, target, input);
    // The second page too, now and then: NextToken is part of the path.
    if (out.NextToken && i % 10 === 0) await call(port, creds, target, { ...input, NextToken: out.NextToken });
    const ms = performance.now() - t;
    all.push(ms);
    (byKind[kind] ??= []).push(ms);
  }
  await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
  const summary = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50Ms: +percentile(s, 50).toFixed(2), p99Ms: +percentile(s, 99).toFixed(2), maxMs: +s[s.length - 1].toFixed(2) };
  };
  return {
    events: EVENTS,
    lookups: LOOKUPS,
    ...summary(all),
    byFilter: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, summary(v)])),
    writeEventsPerSec: Math.round(EVENTS / writeSeconds),
    sealerEventsPerSec: Math.round(chained / sealSeconds),
    target: 'p99Ms <= 50',
  };
}

results.lookupEvents = {};
// BENCH_LOOKUPS=0 skips LookupEvents; BENCH_SKIP_SQLITE_LOOKUPS=1 measures PostgreSQL's alone (with BENCH_DATABASE_URL).
if (LOOKUPS > 0 && process.env.BENCH_SKIP_SQLITE_LOOKUPS !== '1') {
  results.lookupEvents.sqlite = await lookupBench('sqlite');
  log('sqlite lookups', JSON.stringify(results.lookupEvents.sqlite));
}
if (LOOKUPS > 0 && process.env.BENCH_DATABASE_URL) {
  results.lookupEvents.postgres = await lookupBench('postgres', process.env.BENCH_DATABASE_URL);
  log('postgres lookups', JSON.stringify(results.lookupEvents.postgres));
}

const out = JSON.stringify(results, null, 2);
process.stdout.write(out + '\n');
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `audit-${results.when.replace(/[:.]/g, '-')}.json`), out);
