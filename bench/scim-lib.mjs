// Helpers of the SCIM benchmarks: a keep-alive HTTP client with a handful of connections, as an
// IdP's sync connector has, an Atrium server with a SCIM token, and the same-run baseline.

import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, ROOT, percentile, runJson, startAndWait, stop } from './lib.mjs';

/** `--name=value` or `--name value` flags, falling back to an environment variable, then a default. */
export function option(name, env, fallback) {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const raw = i < 0 ? process.env[env] : args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/** A client of one server: at most `connections` requests in flight, over kept-alive sockets. */
export function client(port, connections, defaultHeaders = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const request = (method, urlPath, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: urlPath,
          agent,
          headers: { ...defaultHeaders, ...(payload === undefined ? {} : { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(payload) }), ...headers },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { request, close: () => agent.destroy() };
}

/** Runs `work(i)` for i in [0, count) with `concurrency` in flight; resolves when all are done. */
export async function pool(count, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** `atrium init` in a fresh data dir, `serve` on it, and a SCIM bearer token. */
export async function startScimServer(port, extraEnv = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-scim-'));
  runJson(['init', '--data-dir', dataDir, '--json']);
  const { token } = runJson(['scim', 'token', 'create', '--data-dir', dataDir, '--json']);
  const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', extraEnv);
  return { dataDir, token, child: server.child };
}

/**
 * The baseline: the trivial Fastify route of bench/baseline-server.mjs, driven for `seconds` by the
 * same client with the same connections, `method` with `body`. Requests per second and latencies.
 */
export async function measureBaseline(port, connections, seconds, method = 'GET', body = undefined) {
  const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], port, '/', { PORT: String(port) });
  const c = client(port, connections);
  const latencies = [];
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      // The baseline parses plain JSON, which Fastify knows without a content-type parser of its own.
      const r = await c.request(method, '/', body, body === undefined ? {} : { 'content-type': 'application/json' });
      if (r.status !== 200) throw new Error(`baseline answered ${r.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  c.close();
  await stop(base.child);
  return { reqPerSec: Math.round(latencies.length / elapsed), ...latencyFigures(latencies) };
}

export function latencyFigures(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (v) => +v.toFixed(2);
  return { count: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1)) };
}

export { stop };
