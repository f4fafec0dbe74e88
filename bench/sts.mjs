// `npm run build && node bench/sts.mjs`: STS GetCallerIdentity verified with temporary (ASIA…)
// credentials, beside a trivial-route baseline from the same run (target ≥ 5,000 req/s).
//   - baseline: a trivial Fastify route (autocannon, same connections and duration)
//   - GetCallerIdentity on `atrium serve` over SQLite, with credentials issued in-process
// The request is signed once and replayed: the server still decrypts the token, checks expiry and
// revocation, derives the secret and verifies the signature on every request, and the load
// generator spends none of the 2 cores on signing. Env: BENCH_DURATION (seconds per run, 10).
// Prints one JSON object (also written to .bench-results/sts-<time>.json).

import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../dist/config/config.js';
import { signatureFor } from '../dist/credentials/sigv4.js';
import { createRegistry } from '../dist/registry.js';
import { systemContext } from '../dist/shared/context.js';
import { createLogger } from '../dist/shared/logger.js';
import { BIN, ROOT, machine, runJson, startAndWait, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 16;
const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const log = (...a) => console.error('[bench:sts]', ...a);

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('error', reject);
  });
}

/** Headers of a SigV4-signed awsQuery call with a session token (which SigV4 requires to be signed). */
function signedStsHeaders(port, creds) {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const headers = {
    host: `127.0.0.1:${port}`,
    'content-type': 'application/x-www-form-urlencoded',
    'x-amz-date': amzDate,
    'x-amz-security-token': creds.sessionToken,
  };
  const auth = { accessKeyId: creds.accessKeyId, date: amzDate.slice(0, 8), region: 'us-east-1', service: 'sts', signedHeaders: Object.keys(headers).sort(), amzDate };
  const signature = signatureFor({ method: 'POST', path: '/', query: '', headers, body: Buffer.from(BODY) }, auth, creds.secretAccessKey);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${auth.date}/us-east-1/sts/aws4_request, SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}

const results = { machine: machine(), when: new Date().toISOString() };

const basePort = 19000 + Math.floor(Math.random() * 1000);
const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
results.baselineReqPerSec = Math.round((await cannon({ url: `http://127.0.0.1:${basePort}/` })).requests.average);
await stop(base.child);
log('baseline', results.baselineReqPerSec, 'req/s');

const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-sts-'));
runJson(['init', '--data-dir', dataDir, '--json']);
const port = basePort + 1;
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port);

// Issue as GetRoleCredentials would, from another process on the same database and key file.
const reg = await createRegistry(loadConfig({ dataDir, logLevel: 'silent' }, {}), { log: createLogger('silent') });
const creds = await reg.temporaryCredentials.issueRoleCredentials(systemContext('sso.amazonaws.com', 'us-east-1', 'bench', 'bench'), {
  userId: 'bench-user-id',
  userName: 'bench-user',
  sessionId: 'bench-session',
  accountId: '123456789012',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
  roleName: 'AWSReservedSSO_Bench_0123456789abcdef',
  durationSeconds: 3600,
});
await reg.close();

const headers = signedStsHeaders(port, creds);
const probe = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers, body: BODY });
const probeText = await probe.text();
if (probe.status !== 200 || !probeText.includes('assumed-role/AWSReservedSSO_Bench_')) throw new Error(`GetCallerIdentity failed: ${probe.status} ${probeText}`);

const run = await cannon({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers, body: BODY });
results.getCallerIdentity = {
  reqPerSec: Math.round(run.requests.average),
  p99Ms: run.latency.p99,
  non2xx: run.non2xx,
  errors: run.errors,
  ratioToBaseline: +(run.requests.average / results.baselineReqPerSec).toFixed(3),
  target: 5000,
};
log('GetCallerIdentity', results.getCallerIdentity.reqPerSec, 'req/s');
await stop(server.child);
rmSync(dataDir, { recursive: true, force: true });

const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `sts-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
