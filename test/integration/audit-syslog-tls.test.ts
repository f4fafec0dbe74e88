// The syslog sink over TLS (RFC 5425) against a real TLS receiver with certificates made by openssl:
// the receiver's certificate is verified (a receiver the configured CA did not sign gets nothing,
// and the sink says why), the sink presents its client certificate to a receiver that asks for one,
// and the messages are the same RFC 5424 lines, framed by octet counting, as over plain TCP.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configWarnings, loadConfig } from '../../src/config/config.js';
import { sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { octetCountedFrames } from '../helpers/syslog.js';

const OPENSSL = '/usr/bin/openssl';
const hasOpenssl = existsSync(OPENSSL);
if (!hasOpenssl) {
  if (process.env.CI === 'true') throw new Error(`${OPENSSL} is missing: .ci/run installs openssl`);
  console.warn(`\n!!! SKIPPING the syslog-over-TLS tests: ${OPENSSL} not found (apt-get install openssl) !!!\n`);
}

/** A CA, and a certificate it signs for `names` (subjectAltName entries), as PEM files in `dir`. */
function certificates(dir: string, prefix: string, names: string) {
  const f = (n: string) => path.join(dir, `${prefix}-${n}`);
  const run = (args: string[]) => execFileSync(OPENSSL, args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', `/CN=${prefix} test CA`]);
  const issue = (who: string, ext: string) => {
    run(['req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${prefix} ${who}`]);
    writeFileSync(f(`${who}.ext`), ext);
    run(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', f(`${who}.ext`)]);
  };
  issue('server', `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  issue('client', 'extendedKeyUsage=clientAuth\n');
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

/** A syslog receiver over TLS that asks senders for a certificate from `clientCa`. */
class TlsSyslogReceiver {
  readonly messages: string[] = [];
  readonly senders: string[] = [];
  private server?: tls.Server;
  port = 0;
  constructor(private readonly files: { serverCert: string; serverKey: string; clientCa: string }) {}
  async up(): Promise<void> {
    const { serverCert, serverKey, clientCa } = this.files;
    this.server = tls.createServer({ cert: readFileSync(serverCert), key: readFileSync(serverKey), ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: true }, (socket) => {
      this.senders.push(String(socket.getPeerCertificate().subject?.CN));
      socket.on('data', octetCountedFrames((msg) => this.messages.push(msg)));
      socket.on('end', () => socket.end());
      socket.on('error', () => undefined);
    });
    this.server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

describe.skipIf(!hasOpenssl)('the syslog audit sink over TLS (RFC 5425)', () => {
  let dir: string;
  let ours: ReturnType<typeof certificates>;
  let stranger: ReturnType<typeof certificates>;
  let receiver: TlsSyslogReceiver;
  let server: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-syslog-tls-'));
    ours = certificates(dir, 'ours', 'IP:127.0.0.1,DNS:syslog.test');
    stranger = certificates(dir, 'stranger', 'IP:127.0.0.1');
    receiver = new TlsSyslogReceiver({ serverCert: ours.serverCert, serverKey: ours.serverKey, clientCa: ours.ca });
    await receiver.up();
    const sink = { type: 'syslog', host: '127.0.0.1', port: receiver.port, tls: true, certFile: ours.clientCert, keyFile: ours.clientKey, batchSize: 10, timeoutMs: 2000 };
    server = await startServer('sqlite', {
      auditSealMs: 50,
      auditSinkPollMs: 50,
      auditSinkRetryMs: 100,
      auditSinkRetryMaxMs: 500,
      auditSinks: [
        { ...sink, name: 'trusted', caFile: ours.ca },
        // The same receiver, but trusting only another CA: its certificate must not pass.
        { ...sink, name: 'untrusted', caFile: stranger.ca },
        // The right CA, but a name the receiver's certificate does not carry.
        { ...sink, name: 'wrong-name', caFile: ours.ca, serverName: 'elsewhere.test' },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers RFC 5424 messages only to a receiver whose certificate verifies, with the client certificate, and says why it does not', async () => {
    const client = new IdentitystoreClient(sdkOptions(server));
    const out = await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'over-tls', DisplayName: 'T', Name: { GivenName: 'T', FamilyName: 'L' } }));
    const isOurs = (m: string) => m.includes(out.UserId!);
    await expect.poll(() => receiver.messages.filter(isOurs).length).toBe(1);
    const message = receiver.messages.find(isOurs)!;
    expect(message).toMatch(/^<110>1 \S+ \S+ atrium \d+ CreateUser \[atrium@32473 eventID="[0-9a-f-]{36}" position="\d+" eventSource="identitystore.amazonaws.com"\] \ufeff\{/);
    expect(JSON.parse(message.slice(message.indexOf('\ufeff') + 1))).toMatchObject({ eventName: 'CreateUser', responseElements: { userId: out.UserId } });
    expect(new Set(receiver.senders)).toEqual(new Set(['ours client']));

    // The other two never got through, and their status names the certificate check that failed.
    const status = async () => Object.fromEntries((await server.reg.auditStreams.status()).map((s) => [s.name, s]));
    await expect.poll(async () => (await status()).untrusted?.lastError ?? '').toMatch(/unreachable: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    await expect.poll(async () => (await status())['wrong-name']?.lastError ?? '').toMatch(/unreachable: ERR_TLS_CERT_ALTNAME_INVALID/);
    const s = await status();
    expect(s.trusted!.lastError ?? null).toBeNull();
    expect(s.untrusted!.behind).toBeGreaterThan(0);
    expect(s['wrong-name']!.behind).toBeGreaterThan(0);
    // Only the trusted sink got through: one copy of the event.
    expect(receiver.messages.filter(isOurs)).toHaveLength(1);
  });

  it('refuses TLS options without tls, a certificate without its key, and warns about plain TCP beyond loopback', () => {
    const base = { type: 'syslog', name: 's', host: 'logs.example.com', port: 6514 };
    expect(() => loadConfig({ dataDir: dir, auditSinks: [{ ...base, caFile: ours.ca }] }, {})).toThrow(/caFile, serverName, certFile and keyFile need tls: true/);
    expect(() => loadConfig({ dataDir: dir, auditSinks: [{ ...base, tls: true, certFile: ours.clientCert }] }, {})).toThrow(/certFile and keyFile go together/);
    const plain = loadConfig({ dataDir: dir, auditSinks: [base] }, {});
    expect(configWarnings(plain)).toContain('audit syslog logs.example.com:6514 is plain TCP: audit events cross the network unencrypted (set "tls": true)');
    const overTls = loadConfig({ dataDir: dir, auditSinks: [{ ...base, tls: true }] }, {});
    expect(configWarnings(overTls).filter((w) => w.includes('syslog'))).toEqual([]);
  });

  it('stops at start-up, naming the file, when a certificate file cannot be read', async () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    await expect(startServer('sqlite', { auditSinks: [{ type: 'syslog', name: 'broken', host: '127.0.0.1', port: 6514, tls: true, caFile: missing }] })).rejects.toThrow(
      `audit sink broken: cannot read its caFile ${missing}: ENOENT`,
    );
  });
});
