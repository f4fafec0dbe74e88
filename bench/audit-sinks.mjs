// `node bench/audit-sinks.mjs` (after `npm run build`): what streaming the audit trail costs.
//   - CreateUser throughput with three sinks running (a webhook to a local receiver, a JSON Lines
//     file, syslog over TCP to a local listener) against the same run with none; runs alternate
//     none/sinks/none/sinks… so that a noisy neighbour hits both alike. Reported as a cost ratio.
//   - How far behind the sinks are when the load stops, and how long they take to catch up.
//   - Delivery throughput: events/s a webhook sink delivers from a backlog (batchSize 100).
// Env: BENCH_DURATION (seconds per throughput run, 10), BENCH_ROUNDS (pairs, 2), BENCH_BACKLOG (20000).
// Prints one JSON object (also written to .bench-results/audit-sinks-<time>.json).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, ROOT, cannon, cpuSecondsOf, createUserRequests, machine, runJson, startAndWait, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20_000);
const log = (...a) => console.error('[bench:audit-sinks]', ...a);
const results = { machine: machine(), when: new Date().toISOString() };
let nextPort = 21000 + Math.floor(Math.random() * 1000);

/** Local receivers that count what they get: a webhook and an octet-counting syslog listener. */
async function receivers() {
  const got = { webhook: 0, syslog: 0 };
  const http = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.webhook += JSON.parse(Buffer.concat(chunks).toString()).Records.length;
      res.writeHead(204).end();
    });
  });
  const tcp = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) return;
        got.syslog++;
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  return { got, httpPort: http.address().port, tcpPort: tcp.address().port, close: () => Promise.all([new Promise((r) => http.close(r)), new Promise((r) => tcp.close(r))]) };
}

async function createUserRun(withSinks) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-sinks-'));
  const rx = withSinks ? await receivers() : undefined;
  const env = rx
    ? {
        ATRIUM_AUDIT_SINKS: JSON.stringify([
          { type: 'webhook', name: 'siem', url: `http://127.0.0.1:${rx.httpPort}/` },
          { type: 'syslog', name: 'syslog', host: '127.0.0.1', port: rx.tcpPort },
          { type: 'file', name: 'file', path: path.join(dataDir, 'audit.jsonl') },
        ]),
        ATRIUM_AUDIT_SINK_POLL_MS: '200',
      }
    : {};
  const init = runJson(['init', '--data-dir', dataDir, '--json'], env);
  const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
  const port = nextPort++;
  const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', env);
  const users = createUserRequests(port, creds, init.identityStoreId);
  await cannon({ url: `http://127.0.0.1:${port}`, duration: 2, requests: [users] });
  const made = users.count();
  const cpu0 = cpuSecondsOf(server.child.pid);
  const run = await cannon({ url: `http://127.0.0.1:${port}`, duration: DURATION, requests: [users] });
  // The server's own CPU per request: steadier than req/s on a shared machine. With sinks, it
  // includes their delivery of what was sealed meanwhile (the rest is in catchUpMs).
  const cpuMsPerRequest = +(((cpuSecondsOf(server.child.pid) - cpu0) * 1000) / (users.count() - made)).toFixed(3);
  const out = { reqPerSec: Math.round(run.requests.average), cpuMsPerRequest, non2xx: run.non2xx, errors: run.errors };
  if (rx) {
    // Every CreateUser (plus init's events) must reach both receivers; time the catch-up.
    const total = users.count() + 3;
    out.behindAtStop = { webhook: total - rx.got.webhook, syslog: total - rx.got.syslog };
    const t0 = performance.now();
    while ((rx.got.webhook < total || rx.got.syslog < total) && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    out.catchUpMs = Math.round(performance.now() - t0);
    out.delivered = { ...rx.got };
    await rx.close();
  }
  await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
  return out;
}

const none = [];
const sinks = [];
for (let i = 0; i < ROUNDS; i++) {
  none.push(await createUserRun(false));
  sinks.push(await createUserRun(true));
  log(`round ${i + 1}: no sinks ${none.at(-1).reqPerSec} req/s (${none.at(-1).cpuMsPerRequest} CPU ms/req), three sinks ${sinks.at(-1).reqPerSec} req/s (${sinks.at(-1).cpuMsPerRequest} CPU ms/req), caught up in ${sinks.at(-1).catchUpMs} ms`);
}
const mean = (runs, key = 'reqPerSec') => runs.reduce((a, r) => a + r[key], 0) / runs.length;
results.createUser = {
  noSinksReqPerSec: Math.round(mean(none)),
  threeSinksReqPerSec: Math.round(mean(sinks)),
  sinkCost: +(1 - mean(sinks) / mean(none)).toFixed(3),
  noSinksCpuMsPerRequest: +mean(none, 'cpuMsPerRequest').toFixed(3),
  threeSinksCpuMsPerRequest: +mean(sinks, 'cpuMsPerRequest').toFixed(3),
  sinkCpuCost: +(mean(sinks, 'cpuMsPerRequest') / mean(none, 'cpuMsPerRequest') - 1).toFixed(3),
  runs: { none, sinks },
};

// ---- delivery from a backlog: the webhook sink starts after BACKLOG events are sealed ----
{
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-sinks-'));
  const init = runJson(['init', '--data-dir', dataDir, '--json']);
  const creds = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
  let port = nextPort++;
  let server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz');
  const users = createUserRequests(port, creds, init.identityStoreId, 'b');
  await cannon({ url: `http://127.0.0.1:${port}`, amount: BACKLOG, requests: [users] });
  await new Promise((r) => setTimeout(r, 3000)); // sealed
  await stop(server.child);
  const rx = await receivers();
  port = nextPort++;
  const t0 = performance.now();
  server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port, '/healthz', {
    ATRIUM_AUDIT_SINKS: JSON.stringify([{ type: 'webhook', name: 'siem', url: `http://127.0.0.1:${rx.httpPort}/`, batchSize: 100 }]),
    ATRIUM_AUDIT_SINK_POLL_MS: '100',
  });
  const total = users.count() + 3;
  while (rx.got.webhook < total && performance.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - t0;
  results.webhookBacklog = { events: rx.got.webhook, expected: total, ms: Math.round(ms), eventsPerSec: Math.round(rx.got.webhook / (ms / 1000)) };
  log(`backlog: ${rx.got.webhook} of ${total} events delivered in ${Math.round(ms)} ms`);
  await stop(server.child);
  await rx.close();
  rmSync(dataDir, { recursive: true, force: true });
}

const dir = path.join(ROOT, '.bench-results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `audit-sinks-${Date.now()}.json`), JSON.stringify(results, null, 2));
console.log(JSON.stringify(results));
