// The file sink on paths whose directory cannot be synced: the records are delivered once, not
// once and then again when the failed batch is retried.

import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SealedEvent } from './sink-store.js';
import { fileSink } from './transports.js';

const event = (n: number): SealedEvent => ({
  position: n,
  event: {
    eventId: `00000000-0000-7000-8000-00000000000${n}`,
    eventTime: 1_700_000_000_000 + n,
    eventSource: 'sso.amazonaws.com',
    eventName: 'CreatePermissionSet',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'test',
    userIdentity: { type: 'IAMUser', principalId: 'AIDA' },
    requestParameters: null,
    responseElements: null,
    requestID: `r${n}`,
    readOnly: false,
    eventType: 'AwsApiCall',
  },
});

describe('file sink', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });

  /** Delivers as the chain follower does: a batch that fails is tried again until it is delivered. */
  async function deliver(sink: ReturnType<typeof fileSink>, batch: SealedEvent[]): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await sink.consume(batch, () => Promise.resolve(true));
      } catch {
        // tried again, as after the sink's back-off
      }
    }
    throw new Error('never delivered');
  }

  it('writes each record once to a file named through /proc/self/fd (a directory that cannot be synced)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atrium-file-sink-'));
    // A file the process was handed open, as a service manager hands a log file (fd 3 …).
    const fd = openSync(path.join(dir, 'audit.jsonl'), 'a');
    cleanup.push(() => (closeSync(fd), rmSync(dir, { recursive: true, force: true })));
    const sink = fileSink({ type: 'file', name: 'archive', batchSize: 100, path: `/proc/self/fd/${fd}` });
    await deliver(sink, [event(1), event(2)]);
    await deliver(sink, [event(3)]);
    const lines = readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { requestID: string }).requestID)).toEqual(['r1', 'r2', 'r3']);
  });

  // Skipped as root (as CI runs): root may read any directory, so the EACCES this case stages cannot happen.
  it.skipIf(process.getuid?.() === 0)('writes each record once into a directory it may write but not list (mode 0333)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atrium-file-sink-'));
    chmodSync(dir, 0o333);
    cleanup.push(() => (chmodSync(dir, 0o700), rmSync(dir, { recursive: true, force: true })));
    const sink = fileSink({ type: 'file', name: 'archive', batchSize: 100, path: path.join(dir, 'audit.jsonl') });
    await deliver(sink, [event(1), event(2)]);
    chmodSync(dir, 0o700);
    const lines = readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
  });
});
