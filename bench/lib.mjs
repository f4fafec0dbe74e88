// Shared bench helpers: spawn processes, sign AWS requests, measure. Benchmarks print their
// figures and never assert on wall time; ratios against a same-run baseline are what we compare.

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signatureFor } from '../dist/credentials/sigv4.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BIN = path.join(ROOT, 'bin/atrium.js');
/**
 * The server runs with the V8 flags of bin/atrium.js's shebang (which `npm start` repeats), read
 * from the file so that the two cannot drift; BENCH_SERVER_NODE_FLAGS adds more, e.g. `--cpu-prof`.
 */
export const SERVE_NODE_FLAGS = [
  ...(/^#!.*?\bnode\b(.*)$/m.exec(readFileSync(BIN, 'utf8').split('\n', 1)[0])?.[1] ?? '').split(' ').filter(Boolean),
  ...(process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];

export function machine() {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) };
}

export function runJson(args, env = {}) {
  return JSON.parse(execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }));
}

/** Start a process and wait until GET url/healthz (or /) answers 200; returns {child, ms}. */
export async function startAndWait(args, port, healthPath = '/healthz', env = {}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args[0] === BIN ? [...SERVE_NODE_FLAGS, ...args] : args, { env: { ...process.env, ATRIUM_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? 'inherit' : 'ignore', 'inherit'] });
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${healthPath}`);
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, ms: performance.now() - t0 };
}

export async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** CPU seconds (user + system) a process, or one of its threads, has used: from /proc. */
export function cpuSecondsOf(pid, tid) {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process and its children (`serve --workers`: the primary and its workers), from /proc. */
export function processTree(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return [pid, ...(children === '' ? [] : children.split(/\s+/).map(Number))];
}

/** CPU seconds of a process and its children, and of their main threads (each process's event loop). */
export function treeCpuSeconds(pid) {
  const tree = processTree(pid);
  return { all: tree.reduce((t, p) => t + cpuSecondsOf(p), 0), main: tree.reduce((t, p) => t + cpuSecondsOf(p, p), 0) };
}

export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

const SERVICES = {
  AWSIdentityStore: 'identitystore',
  SWBExternalService: 'sso',
  AWSOrganizationsV20161128: 'organizations',
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101': 'cloudtrail',
};

/** Headers for a SigV4-signed awsJson1_1 call. */
export function signedHeaders(port, creds, target, body) {
  const service = SERVICES[target.slice(0, target.lastIndexOf('.'))];
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const headers = { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-date': amzDate, 'x-amz-target': target };
  const auth = { accessKeyId: creds.accessKeyId, date: amzDate.slice(0, 8), region: 'us-east-1', service, signedHeaders: ['content-type', 'host', 'x-amz-date', 'x-amz-target'], amzDate };
  const signature = signatureFor({ method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) }, auth, creds.secretAccessKey);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${auth.date}/us-east-1/${service}/aws4_request, SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}

export async function call(port, creds, target, input) {
  const body = JSON.stringify(input);
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: signedHeaders(port, creds, target, body), body });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${target} failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** An autocannon run as a promise (16 connections unless told). */
export async function cannon(opts) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: 16, pipelining: 1, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

/** An autocannon `setupRequest` that signs a new identitystore CreateUser (`<prefix>-<n>`) each time; `count()` says how many it made. */
export function createUserRequests(port, creds, identityStoreId, prefix = 'u') {
  let n = 0;
  const setupRequest = () => {
    n += 1;
    const body = JSON.stringify({ IdentityStoreId: identityStoreId, UserName: `${prefix}-${n}`, DisplayName: `U ${n}`, Name: { GivenName: 'U', FamilyName: `${n}` } });
    return { method: 'POST', path: '/', headers: signedHeaders(port, creds, 'AWSIdentityStore.CreateUser', body), body };
  };
  return { setupRequest, count: () => n };
}
