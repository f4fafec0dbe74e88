// `node bench/mfa.mjs` (after `npm run build`): what a second factor adds to a sign-in.
// Three kinds of sign-in, interleaved, in process on a real registry (SQLite under a temp dir, as
// `serve` uses it), one after another:
// - session: opening the portal session and its audit events, which every sign-in pays;
// - TOTP: the MFA step (flow read, device read, seed unsealed, RFC 6238 over three steps, the
//   conditional UPDATE of the last step joined to the session's commit). Target: adds <= 1 ms.
// - WebAuthn: issuing the challenge (its own request and commit), then the MFA step (challenge read,
//   @simplewebauthn's ES256 check, challenge consumed and counter moved in the session's commit),
//   with a software authenticator in this process whose signing is not counted. Target: adds <= 2 ms.
// "Adds" is the kind's median minus the session's median. The same-run baseline: the trivial Fastify
// route of bench/baseline-server.mjs, one request after another over loopback, to read the machine.
// Env: BENCH_SAMPLES (sign-ins of each kind, default 400). Prints one JSON object.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { initialize } from '../dist/init.js';
import { loadConfig } from '../dist/config/config.js';
import { createRegistry } from '../dist/registry.js';
import { createLogger } from '../dist/shared/logger.js';
import { systemContext } from '../dist/shared/context.js';
import { ROOT, machine, percentile, startAndWait, stop } from './lib.mjs';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const log = (...a) => console.error('[bench]', ...a);
const results = { machine: machine(), when: new Date().toISOString(), samples: SAMPLES };
const stats = (ms) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { meanMs: +mean.toFixed(3), p50Ms: +percentile(sorted, 50).toFixed(3), p99Ms: +percentile(sorted, 99).toFixed(3) };
};

// ---- the baseline: a trivial Fastify route ----
const basePort = 20000 + Math.floor(Math.random() * 1000);
const base = await startAndWait([path.join(ROOT, 'bench/baseline-server.mjs')], basePort, '/', { PORT: String(basePort) });
const baseline = [];
for (let i = 0; i < SAMPLES * 2; i++) {
  const t0 = performance.now();
  await (await fetch(`http://127.0.0.1:${basePort}/`)).text();
  if (i >= SAMPLES) baseline.push(performance.now() - t0);
}
await stop(base.child);
results.baselineRoute = stats(baseline);
log('baseline route', results.baselineRoute);

// ---- a registry as serve builds it, with users ----
const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-mfa-'));
const reg = await createRegistry(loadConfig({ dataDir, logLevel: 'silent' }, {}), { log: createLogger('silent') });
const init = await initialize(reg, { port: 8080 });
const ctx = systemContext('signin.amazonaws.com', 'us-east-1', 'bench');
async function newUser(i) {
  const profile = { userName: `bench-mfa-${i}`, displayName: 'Bench', name: { givenName: 'B', familyName: 'M' } };
  const userId = await reg.directory.createUser(ctx, init.identityStoreId, { profile });
  return { identityStoreId: init.identityStoreId, userId, userName: profile.userName };
}

// ---- TOTP: one device per user, so that every sign-in uses a fresh time step ----
const totpUsers = [];
for (let i = 0; i < SAMPLES; i++) {
  const user = await newUser(`t${i}`);
  const enrolment = await reg.mfa.beginTotpEnrolment(user);
  const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
  // Registered with the previous step's code, so that the current one is still unused.
  await reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: enrolment.enrolmentId, name: 'Phone', code: totp.generate({ timestamp: Date.now() - 30_000 }) });
  totpUsers.push({ user, totp });
}
// ---- WebAuthn: a software authenticator (ES256) holding one credential per user ----
const rp = { rpId: 'localhost', origin: 'http://localhost:8080' };
const rpIdHash = createHash('sha256').update(rp.rpId).digest();
const b64u = (b) => Buffer.from(b).toString('base64url');
/** The COSE_Key of a P-256 public key (CBOR map {1:2, 3:-7, -1:1, -2:x, -3:y}). */
function coseKeyOf(publicKey) {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  return Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), x, Buffer.from([0x22, 0x58, 0x20]), y]);
}
const keys = [];
for (let i = 0; i < SAMPLES; i++) {
  const user = await newUser(`w${i}`);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credentialId = randomBytes(16);
  const deviceId = `mfa-bench${String(i).padStart(8, '0')}`;
  await reg.tx.transaction((s) =>
    s.mfa.insertDevice({
      deviceId,
      identityStoreId: user.identityStoreId,
      userId: user.userId,
      slot: 1,
      name: 'Key',
      type: 'WEBAUTHN',
      secret: null,
      lastStep: null,
      credentialId: b64u(credentialId),
      publicKey: b64u(coseKeyOf(publicKey)),
      signCount: 0,
      transports: ['usb'],
      discoverable: false,
      createdAt: Date.now(),
      lastUsedAt: null,
    }),
  );
  keys.push({ user, privateKey, credentialId, counter: 0 });
}
/** What navigator.credentials.get() returns for `challenge`, signed by the key. */
function assertion(key, challenge) {
  key.counter += 1;
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(key.counter);
  const authenticatorData = Buffer.concat([rpIdHash, Buffer.from([0x05]), counter]);
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin: rp.origin, crossOrigin: false }));
  const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), key.privateKey);
  return {
    id: b64u(key.credentialId),
    rawId: b64u(key.credentialId),
    type: 'public-key',
    response: { authenticatorData: b64u(authenticatorData), clientDataJSON: b64u(clientDataJSON), signature: b64u(signature) },
    clientExtensionResults: {},
  };
}
// ---- the three kinds of sign-in, interleaved ----
const signInCtx = systemContext('signin.amazonaws.com', 'us-east-1', 'bench');
/** A sign-in that passed its password and waits for the second factor (made outside the timing). */
async function flowFor(user) {
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  await reg.tx.transaction((s) =>
    s.mfa.insertFlow({ flowId: randomBytes(16).toString('hex'), tokenHash: createHash('sha256').update(token).digest('hex'), ...user, mustChangePassword: false, state: 'CHALLENGE', createdAt: now, expiresAt: now + 600_000 }),
  );
  return token;
}
const sessionUsers = [];
for (let i = 0; i < SAMPLES; i++) sessionUsers.push({ ...(await newUser(`s${i}`)), status: 'ENABLED' });
const times = { session: [], totp: [], webauthn: [] };
for (let i = 0; i < SAMPLES; i++) {
  let t0 = performance.now();
  await reg.auth.signInFederated(signInCtx, sessionUsers[i], 'PASSWORD');
  times.session.push(performance.now() - t0);

  const { user, totp } = totpUsers[i];
  const totpFlow = await flowFor(user);
  const code = totp.generate();
  t0 = performance.now();
  const totpResult = await reg.auth.completeSecondFactor(signInCtx, totpFlow, rp, { type: 'TOTP', code });
  times.totp.push(performance.now() - t0);
  if (totpResult.kind !== 'ok') throw new Error(`TOTP sign-in refused: ${JSON.stringify(totpResult)}`);

  const key = keys[i];
  const webauthnFlow = await flowFor(key.user);
  t0 = performance.now();
  const { challengeId, options } = await reg.mfa.beginWebauthnAuthentication(key.user, rp);
  const issued = performance.now() - t0;
  const response = assertion(key, options.challenge);
  t0 = performance.now();
  const webauthnResult = await reg.auth.completeSecondFactor(signInCtx, webauthnFlow, rp, { type: 'WEBAUTHN', challengeId, response });
  times.webauthn.push(issued + performance.now() - t0);
  if (webauthnResult.kind !== 'ok') throw new Error(`WebAuthn sign-in refused: ${JSON.stringify(webauthnResult)}`);
}
results.sessionOpen = stats(times.session);
results.totpSignInStep = stats(times.totp);
results.webauthnSignInStep = stats(times.webauthn);
results.added = {
  totpMs: +(results.totpSignInStep.p50Ms - results.sessionOpen.p50Ms).toFixed(3),
  totpTargetMs: 1,
  webauthnMs: +(results.webauthnSignInStep.p50Ms - results.sessionOpen.p50Ms).toFixed(3),
  webauthnTargetMs: 2,
};
log('session', results.sessionOpen, 'TOTP step', results.totpSignInStep, 'WebAuthn step', results.webauthnSignInStep, 'added', results.added);

await reg.close();
rmSync(dataDir, { recursive: true, force: true });
results.ratios = {
  totpAddedOverBaselineRouteP50: +(results.added.totpMs / results.baselineRoute.p50Ms).toFixed(2),
  webauthnAddedOverBaselineRouteP50: +(results.added.webauthnMs / results.baselineRoute.p50Ms).toFixed(2),
};
console.log(JSON.stringify(results, null, 2));
