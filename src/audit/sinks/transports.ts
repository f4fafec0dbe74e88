// The three sinks' wire formats: a webhook (HTTP POST of CloudTrail-shaped JSON batches), syslog
// (RFC 5424 over TCP, octet-counting framing per RFC 6587, or over TLS per RFC 5425, which frames
// the same way) and a JSON Lines file (append + fsync).
// Each `send` resolves only once the batch is taken, so the cursor never passes an undelivered event.

import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { cloudTrailRecord, type CloudTrailRecord } from '../chain.js';
import type { ChainConsumer } from './chain-follower.js';
import type { SealedEvent } from './sink-store.js';

export interface WebhookTarget {
  url: string;
  /** Extra request headers (an Authorization header, say); never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
}

export type SinkSpec =
  | ({ type: 'webhook'; name: string; batchSize: number } & WebhookTarget)
  | {
      type: 'syslog';
      name: string;
      batchSize: number;
      host: string;
      port: number;
      facility: number;
      hostname?: string | undefined;
      appName: string;
      timeoutMs: number;
      tls?: boolean | undefined;
      caFile?: string | undefined;
      serverName?: string | undefined;
      certFile?: string | undefined;
      keyFile?: string | undefined;
    }
  | { type: 'file'; name: string; batchSize: number; path: string };

/** POST a JSON body; anything but a 2xx is a failure. The body of the answer is read and dropped. */
export async function postJson(target: WebhookTarget, body: unknown): Promise<void> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { ...target.headers, 'content-type': 'application/json', 'user-agent': 'atrium-audit' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(target.timeoutMs),
    // A redirect would carry the headers (an API key) to wherever the receiver points; refuse it.
    redirect: 'error',
  }).catch((err: unknown) => {
    // A request fetch refuses to make (a header it cannot send) fails before any connection: a
    // configuration error, not the network. Its message may quote the header, so it is not repeated.
    if (err instanceof TypeError && (err as { cause?: unknown }).cause === undefined) throw new Error('webhook request refused before sending: check the sink\'s url and headers');
    // fetch's own message is only "fetch failed"; the cause says why (ECONNREFUSED, a timeout).
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    // The URL never goes into the message (config refuses credentials in it; its path may hold a secret).
    throw new Error(`webhook unreachable: ${cause?.code ?? 'fetch failed'}`);
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
}

/** CloudTrail's own log-file shape: `{"Records": [...]}`, each record with its eventID. */
export function webhookSink(spec: Extract<SinkSpec, { type: 'webhook' }>): ChainConsumer {
  return {
    name: spec.name,
    consume: (batch) => postJson(spec, { Records: batch.map((s) => cloudTrailRecord(s.event)) }),
  };
}

const SYSLOG_ENTERPRISE = 32473; // RFC 5612's documentation number; Atrium has no IANA one.
const NILVALUE = '-';
/** PRINTUSASCII, at most `max` long: RFC 5424's header fields. */
const headerField = (s: string, max: number) => s.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || NILVALUE;
const sdValue = (s: string) => s.replace(/[\\"\]]/g, (c) => `\\${c}`);

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM JSON`. Severity is
 * informational (6) for a success and warning (4) for a refusal; MSGID is the event name.
 */
export function syslogMessage(record: CloudTrailRecord, position: number, opts: { facility: number; hostname: string; appName: string }): string {
  const severity = record.errorCode ? 4 : 6;
  const sd = `[atrium@${SYSLOG_ENTERPRISE} eventID="${sdValue(record.eventID)}" position="${position}" eventSource="${sdValue(record.eventSource)}"]`;
  return `<${opts.facility * 8 + severity}>1 ${record.eventTime} ${headerField(opts.hostname, 255)} ${headerField(opts.appName, 48)} ${process.pid} ${headerField(record.eventName, 32)} ${sd} \ufeff${JSON.stringify(record)}`;
}

/** RFC 6587 octet counting: the message's length in bytes, a space, the message. */
export const octetCounted = (msg: string): Buffer => {
  const body = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
};

/**
 * A connection per batch: write every message, half-close, and count the batch delivered only when
 * the receiver closes its side cleanly after reading to our end. A receiver that dies mid-batch
 * resets the connection instead, and the batch is sent again.
 */
export function syslogSink(spec: Extract<SinkSpec, { type: 'syslog' }>): ChainConsumer {
  const opts = { facility: spec.facility, hostname: spec.hostname ?? osHostname(), appName: spec.appName };
  const tlsOptions = spec.tls ? syslogTlsOptions(spec) : undefined;
  return {
    name: spec.name,
    consume: (batch) =>
      sendOverTcp(spec.host, spec.port, spec.timeoutMs, Buffer.concat(batch.map((s) => octetCounted(syslogMessage(cloudTrailRecord(s.event), s.position, opts)))), tlsOptions),
  };
}

/**
 * The TLS side of a syslog sink, read once at start-up (a file that cannot be read stops it there).
 * The receiver's certificate is always verified; TLS 1.2 at least, as RFC 5425 and RFC 9662 ask.
 */
function syslogTlsOptions(spec: Extract<SinkSpec, { type: 'syslog' }>): tls.ConnectionOptions {
  const read = (what: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`audit sink ${spec.name}: cannot read its ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  return {
    minVersion: 'TLSv1.2',
    ca: read('caFile', spec.caFile),
    cert: read('certFile', spec.certFile),
    key: read('keyFile', spec.keyFile),
    // SNI names a host, never an address (RFC 6066); an address is checked against the certificate's IP names.
    servername: spec.serverName ?? (net.isIP(spec.host) ? undefined : spec.host),
    rejectUnauthorized: true,
  };
}

function sendOverTcp(host: string, port: number, timeoutMs: number, payload: Buffer, tlsOptions?: tls.ConnectionOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    const socket = tlsOptions ? tls.connect({ ...tlsOptions, host, port }) : net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`syslog receiver timed out after ${timeoutMs} ms`)));
    // Over TLS, nothing is written before the receiver's certificate has been verified.
    socket.on(tlsOptions ? 'secureConnect' : 'connect', () => socket.end(payload));
    socket.on('data', () => undefined); // a receiver may answer; what it says does not matter
    socket.on('error', (err: NodeJS.ErrnoException) => (failed = new Error(`syslog receiver unreachable: ${err.code ?? err.message}`)));
    socket.on('close', (hadError) => (failed || hadError ? reject(failed ?? new Error('syslog connection failed')) : resolve()));
  });
}

/**
 * One CloudTrail record per line, appended and synced to disk before the cursor moves. A file this
 * write began (new, or emptied by a rotation) has its directory synced too, so that the file's
 * name survives a crash along with its records.
 */
export function fileSink(spec: Extract<SinkSpec, { type: 'file' }>): ChainConsumer {
  return {
    name: spec.name,
    async consume(batch: readonly SealedEvent[]) {
      const file = await open(spec.path, 'a', 0o600);
      try {
        // Before the records: a failure here leaves nothing written, so the retry writes them once.
        if ((await file.stat()).size === 0) await syncDirectoryOf(spec.path);
        await file.appendFile(batch.map((s) => `${JSON.stringify(cloudTrailRecord(s.event))}\n`).join(''), 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
    },
  };
}

/**
 * fsync of a file's directory (POSIX; Windows cannot open a directory, and needs none). Best effort
 * where it cannot be done at all, as PostgreSQL's fsync_fname: a directory the process may write
 * but not read (EACCES), or one whose file system syncs no directories (/proc/self/fd: EINVAL).
 */
async function syncDirectoryOf(filePath: string): Promise<void> {
  if (process.platform === 'win32') return;
  const cannot = (err: unknown, codes: readonly string[]) => codes.includes(String((err as { code?: unknown }).code));
  let dir;
  try {
    dir = await open(path.dirname(filePath), 'r');
  } catch (err) {
    if (cannot(err, ['EACCES', 'EPERM'])) return;
    throw err;
  }
  try {
    await dir.sync();
  } catch (err) {
    if (!cannot(err, ['EINVAL', 'EBADF', 'ENOTSUP', 'EOPNOTSUPP'])) throw err;
  } finally {
    await dir.close();
  }
}

export function sinkConsumer(spec: SinkSpec): ChainConsumer {
  switch (spec.type) {
    case 'webhook':
      return webhookSink(spec);
    case 'syslog':
      return syslogSink(spec);
    case 'file':
      return fileSink(spec);
  }
}
