// Offline verification of an exported JSON Lines file, given only the audit public key: the same
// chain check as on the database, over the file's lines. A line that is not what export writes is
// itself a finding, named by its line number.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { KeyObject } from 'node:crypto';
import { verifyChain, type AuditDigest, type ChainLink, type CloudTrailRecord, type VerifyResult } from './chain.js';

type Parsed = { kind: 'event'; link: ChainLink } | { kind: 'digest'; digest: AuditDigest } | { kind: 'bad'; reason: string };

function parseLine(text: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'bad', reason: 'is not valid JSON' };
  }
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') return { kind: 'bad', reason: 'is not a JSON object' };
  const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
  if (o.type === 'digest') {
    if (!isInt(o.position) || typeof o.hash !== 'string' || typeof o.createdAt !== 'number' || typeof o.keyId !== 'string' || typeof o.signature !== 'string') {
      return { kind: 'bad', reason: 'is a digest with missing fields' };
    }
    if (o.every !== undefined && !isInt(o.every)) return { kind: 'bad', reason: 'is a digest with a malformed every' };
    return { kind: 'digest', digest: { position: o.position, hash: o.hash, createdAt: o.createdAt, keyId: o.keyId, signature: o.signature, ...(isInt(o.every) ? { every: o.every } : {}) } };
  }
  if (o.type === 'event') {
    const event = o.event as CloudTrailRecord | null;
    if (!isInt(o.position) || typeof o.prevHash !== 'string' || typeof o.hash !== 'string' || !event || typeof event !== 'object' || typeof event.eventID !== 'string') {
      return { kind: 'bad', reason: 'is an event with missing fields' };
    }
    return { kind: 'event', link: { position: o.position, eventId: event.eventID, prevHash: o.prevHash, hash: o.hash, record: event } };
  }
  return { kind: 'bad', reason: 'is neither an event nor a digest' };
}

async function* lines(file: string): AsyncGenerator<{ n: number; text: string }> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() !== '') yield { n, text };
  }
}

export type FileVerifyResult = VerifyResult & { line?: number };

/**
 * Verify an export file. The problem names the position, the eventID and the line. A file proves
 * only what a signed digest in it vouches for: one without any, or with events after its last
 * digest, fails, unless `allowUnsignedTail` accepts events after the last digest (an export that
 * reaches past the newest digest; they are counted in `unsignedTail`).
 */
export async function verifyExport(file: string, key: KeyObject, opts: { allowUnsignedTail?: boolean } = {}): Promise<FileVerifyResult> {
  const digests = new Map<number, AuditDigest>();
  const lineOfPosition = new Map<number, number>();
  for await (const { n, text } of lines(file)) {
    const p = parseLine(text);
    if (p.kind === 'bad') {
      return { ok: false, events: 0, firstPosition: null, lastPosition: null, digests: 0, unsignedTail: 0, line: n, problem: { position: null, eventId: null, reason: `line ${n} ${p.reason}` } };
    }
    if (p.kind === 'digest') digests.set(p.digest.position, p.digest);
    else if (!lineOfPosition.has(p.link.position)) lineOfPosition.set(p.link.position, n);
  }
  const lineOf = new Map<number, number>();
  async function* links(): AsyncGenerator<ChainLink> {
    for await (const { n, text } of lines(file)) {
      const p = parseLine(text);
      if (p.kind !== 'event') continue;
      lineOf.set(p.link.position, n);
      yield p.link;
    }
  }
  const result: FileVerifyResult = await verifyChain(links(), digests, key);
  const missing = result.problem?.position;
  if (missing != null && result.problem!.eventId === null && lineOfPosition.has(missing) && !lineOf.has(missing)) {
    // "Missing" where the walk expected it, but further down the file: the lines were reordered.
    const line = lineOfPosition.get(missing)!;
    return { ...result, line, problem: { position: missing, eventId: null, reason: `position ${missing} is at line ${line}, after later positions: events were reordered` } };
  }
  if (result.problem?.position != null) result.line = lineOf.get(result.problem.position);
  if (!result.ok) return result;
  if (result.digests === 0) {
    const reason = result.events === 0 ? 'the file holds no events and no signed digest: there is nothing to verify' : 'no signed digest in the file vouches for its events: it proves nothing';
    return { ...result, ok: false, problem: { position: result.firstPosition, eventId: null, reason } };
  }
  if (result.unsignedTail > 0 && !opts.allowUnsignedTail) {
    const from = result.lastPosition! - result.unsignedTail + 1;
    return {
      ...result,
      ok: false,
      line: lineOfPosition.get(from),
      problem: {
        position: from,
        eventId: null,
        reason: `the last ${result.unsignedTail} event(s), from position ${from}, come after the file's last signed digest: nothing vouches for them (export again once the next digest is signed, within auditDigestSeconds, or check the rest with --allow-unsigned-tail)`,
      },
    };
  }
  return result;
}
