// The hash chain and its verification, pure: the same code checks the database and an exported file.
// Chain entry n holds hash_n = SHA-256(hash_{n-1} "\n" canonical(event_n)); entry 1 follows GENESIS.
// A digest is the chain head at a position, signed with the audit Ed25519 key; it is what makes a
// rewrite of the whole tail, or a pruned prefix, verifiable.

import { hash, type KeyObject } from 'node:crypto';
import { verifyEd25519 } from '../crypto/index.js';
import type { AuditEvent } from './audit-event.js';

export const GENESIS = '0'.repeat(64);
export const EVENT_VERSION = '1.08';

/** The CloudTrail record of an event: what LookupEvents returns as CloudTrailEvent, what export writes, what the chain hashes. */
export interface CloudTrailRecord {
  eventVersion: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  userIdentity: AuditEvent['userIdentity'];
  requestParameters: unknown;
  responseElements: unknown;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  eventType: string;
  recipientAccountId?: string;
}

export function cloudTrailRecord(e: AuditEvent): CloudTrailRecord {
  return {
    eventVersion: EVENT_VERSION,
    eventTime: new Date(e.eventTime).toISOString(),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: e.awsRegion,
    sourceIPAddress: e.sourceIPAddress,
    userAgent: e.userAgent,
    userIdentity: e.userIdentity,
    requestParameters: e.requestParameters ?? null,
    responseElements: e.responseElements ?? null,
    ...(e.errorCode ? { errorCode: e.errorCode, errorMessage: e.errorMessage ?? '' } : {}),
    requestID: e.requestID,
    eventID: e.eventId,
    readOnly: e.readOnly,
    eventType: e.eventType,
    ...(e.userIdentity.accountId ? { recipientAccountId: e.userIdentity.accountId } : {}),
  };
}

/**
 * A string as JSON: quoted as it is when nothing in it needs escaping (JSON.stringify escapes only
 * quotes, backslashes, code units below 0x20 and lone surrogates; every surrogate goes the long way here).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const quoted = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/**
 * JSON with object keys sorted at every level and no whitespace: one text per value. The chain
 * hashes this text, so it must never change for the same value (chain.test.ts holds it to its first
 * definition). It is built by concatenation, since the sealer runs it on every event: keys in UTF-16
 * code-unit order (`sort()`'s default, which is what `<` compares), undefined properties left out,
 * undefined array items as null, a hole in an array as nothing, every other scalar as
 * JSON.stringify writes it.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += canonicalJson(value[i] === undefined ? null : value[i]);
    }
    return `${out}]`;
  }
  const fields = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(fields).sort()) {
    const v = fields[key];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${quoted(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/**
 * An event as the log stores it, its JSON columns as text: what the sealer hashes, without building
 * the record. `canonical`: requestParameters and responseElements were written in canonical form.
 */
export type StoredEventText = Omit<AuditEvent, 'userIdentity' | 'requestParameters' | 'responseElements' | 'errorCode' | 'errorMessage' | 'eventType'> & {
  seq: number;
  /** The JSON columns' text. */
  userIdentity: string;
  requestParameters: string | null;
  responseElements: string | null;
  canonical: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  eventType: string;
};

const canonicalText = (text: string | null, canonical: boolean): string =>
  text === null ? 'null' : canonical ? text : canonicalJson(JSON.parse(text));

/**
 * canonicalJson(cloudTrailRecord(event)) of a stored event, written from its columns: the record's
 * keys in sorted order, and the parameters and result spliced in as stored when they were written
 * canonically (otherwise parsed and written again). chain.test.ts holds the two to the same text.
 */
export function canonicalRecordText(e: StoredEventText): string {
  const { identity, recipient } = identityTexts(e.userIdentity);
  const error = e.errorCode ? `"errorCode":${quoted(e.errorCode)},"errorMessage":${quoted(e.errorMessage ?? '')},` : '';
  return (
    `{"awsRegion":${quoted(e.awsRegion)},${error}"eventID":${quoted(e.eventId)},"eventName":${quoted(e.eventName)},` +
    `"eventSource":${quoted(e.eventSource)},"eventTime":"${new Date(e.eventTime).toISOString()}","eventType":${quoted(e.eventType)},` +
    `"eventVersion":"${EVENT_VERSION}","readOnly":${e.readOnly},${recipient}"requestID":${quoted(e.requestID)},` +
    `"requestParameters":${canonicalText(e.requestParameters, e.canonical)},"responseElements":${canonicalText(e.responseElements, e.canonical)},` +
    `"sourceIPAddress":${quoted(e.sourceIPAddress)},"userAgent":${quoted(e.userAgent)},"userIdentity":${identity}}`
  );
}

/**
 * A stored userIdentity's canonical text and the recipientAccountId it gives, remembered by the
 * stored text: most events come from a few principals (an automation role, the admins), and the
 * parse and the canonical writing are most of a record's text otherwise. A pure function of the
 * text, so remembering it changes no hash. Bounded: emptied when full.
 */
const identityTextCache = new Map<string, { identity: string; recipient: string }>();
const IDENTITY_CACHE_MAX = 1024;

function identityTexts(stored: string): { identity: string; recipient: string } {
  let texts = identityTextCache.get(stored);
  if (texts === undefined) {
    const identity = JSON.parse(stored) as AuditEvent['userIdentity'];
    texts = { identity: canonicalJson(identity), recipient: identity.accountId ? `"recipientAccountId":${canonicalJson(identity.accountId)},` : '' };
    if (identityTextCache.size >= IDENTITY_CACHE_MAX) identityTextCache.clear();
    identityTextCache.set(stored, texts);
  }
  return texts;
}

/**
 * The chain hash over a record's canonical text, as `chainHash` computes it: SHA-256 of the UTF-8
 * text. One-shot `hash` (Node 20.12+) costs a third of createHash/update/digest on a short text.
 */
export const chainHashOfText = (prevHash: string, canonicalRecord: string): string => hash('sha256', `${prevHash}\n${canonicalRecord}`, 'hex');

/** One update of the whole text: the same bytes as prevHash, "\n" and the record fed one by one (hex and "\n" are ASCII). */
export const chainHash = (prevHash: string, record: CloudTrailRecord): string => chainHashOfText(prevHash, canonicalJson(record));

export interface AuditDigest {
  position: number;
  hash: string;
  createdAt: number;
  keyId: string;
  /** base64 Ed25519 signature over digestMessage(). */
  signature: string;
  /**
   * auditDigestEvery when the sealer made it (v2; a v1 digest has none): at most that many events
   * follow it unsigned, so a longer stretch means the digests after it were deleted.
   */
  every?: number;
}

/** The text a digest's signature covers: v2 signs `every` too; v1 (digests made before it) did not. */
export const digestMessage = (d: Pick<AuditDigest, 'position' | 'hash' | 'createdAt' | 'keyId' | 'every'>): string =>
  d.every === undefined
    ? `atrium-audit-digest/1\nposition=${d.position}\nhash=${d.hash}\ncreatedAt=${d.createdAt}\nkeyId=${d.keyId}`
    : `atrium-audit-digest/2\nposition=${d.position}\nhash=${d.hash}\ncreatedAt=${d.createdAt}\nkeyId=${d.keyId}\nevery=${d.every}`;

/** One link as verification sees it; `record` is undefined when the event it names is gone. */
export interface ChainLink {
  position: number;
  eventId: string;
  prevHash: string;
  hash: string;
  record: CloudTrailRecord | undefined;
}

export interface VerifyProblem {
  /** null when the bad event is not in the chain at all. */
  position: number | null;
  eventId: string | null;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Links checked. */
  events: number;
  firstPosition: number | null;
  lastPosition: number | null;
  /** Digests whose signature and hash were checked. */
  digests: number;
  /** Positions after the last signed digest: chained, but a rewrite of them from there on would go unseen. */
  unsignedTail: number;
  problem?: VerifyProblem;
}

const looksLikeHash = (h: unknown): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h);

/** What a missing start means when retention was on once and is off now. */
const PRUNED_BEFORE = ' (unless auditRetentionDays was set before and pruned them: set it again to verify from the oldest kept position)';

export interface VerifyOptions {
  /** auditDigestEvery: with it, an unsigned tail longer than `allowedUnsignedTail` fails. */
  digestEvery?: number;
  /**
   * Nothing was ever pruned (auditRetentionDays 0): the chain must start at position 1, and an empty
   * chain must have no digests. Otherwise a chain may start after a signed digest, as pruning leaves it.
   */
  fromGenesis?: boolean;
  /**
   * With retention on: the chain may start only after a signed digest made before `before`, and an
   * empty chain's newest digest must be that old too. Pruning deletes only through a digest whose
   * signed `createdAt` is past retention (AuditTrail.prune), so a younger anchor means events were
   * deleted, not pruned.
   */
  pruned?: { before: number; retentionDays: number };
}

/** When a chain that starts after `anchor` could not have been left by pruning: the reason, or undefined. */
function tooYoungToBePruned(anchor: AuditDigest, pruned: VerifyOptions['pruned'], what: string): string | undefined {
  if (!pruned || anchor.createdAt < pruned.before) return undefined;
  return (
    `${what}, but that digest was signed at ${new Date(anchor.createdAt).toISOString()}, and retention (auditRetentionDays ${pruned.retentionDays}) ` +
    `prunes only through digests signed before ${new Date(pruned.before).toISOString()}: the events through position ${anchor.position} were deleted, not pruned ` +
    '(unless auditRetentionDays was lower when they were pruned: verify with that setting)'
  );
}

/**
 * How many positions may follow the last signed digest of an honest chain. The sealer signs a
 * digest in the same transaction as the event that reaches `digestEvery` positions past the last
 * one, so a longer unsigned tail means digests were deleted, to rewrite what they vouched for. If
 * auditDigestEvery was lowered since, the setting the last digest signed (v2) is allowed too; for
 * a v1 digest, the stretch between it and the one before (or the genesis) stands in for it, which
 * deleting older digests as well can widen.
 */
export function allowedUnsignedTail(digestEvery: number, last: Pick<AuditDigest, 'position' | 'every'> | undefined, before: Pick<AuditDigest, 'position'> | undefined): number {
  if (last === undefined) return digestEvery;
  return Math.max(digestEvery, last.every ?? last.position - (before?.position ?? 0));
}

/**
 * Walk the links in chain order and stop at the first bad one. `digests` by position; `key` checks
 * their signatures. A chain that does not start at position 1 must start right after a signed digest.
 * A digest past the last link vouches for events that are gone: the end of the chain was cut off.
 */
export async function verifyChain(
  links: AsyncIterable<ChainLink>,
  digests: ReadonlyMap<number, AuditDigest>,
  key: KeyObject,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, events: 0, firstPosition: null, lastPosition: null, digests: 0, unsignedTail: 0 };
  const fail = (position: number, eventId: string | null, reason: string): VerifyResult => ({ ...result, ok: false, problem: { position, eventId, reason } });
  const checkDigest = (d: AuditDigest, hash: string): string | undefined => {
    if (!verifyEd25519(key, digestMessage(d), d.signature)) return `the digest at position ${d.position} has a bad signature (not made by this key, or edited)`;
    if (d.hash !== hash) return `the chain does not match the signed digest at position ${d.position}: an event at or before it was changed and the chain recomputed`;
    return undefined;
  };
  let prev: { position: number; hash: string; eventId: string } | undefined;
  let beforePrev: { hash: string } | undefined;
  let lastSigned = 0;
  for await (const link of links) {
    if (!prev) {
      result.firstPosition = link.position;
      if (link.position === 1) {
        if (link.prevHash !== GENESIS) return fail(link.position, link.eventId, 'the first event does not follow the genesis hash');
      } else if (opts.fromGenesis) {
        return fail(1, null, `the chain starts at position ${link.position}, but nothing is pruned (auditRetentionDays is 0): positions 1..${link.position - 1} were deleted${PRUNED_BEFORE}`);
      } else {
        const anchor = digests.get(link.position - 1);
        if (!anchor) return fail(link.position, link.eventId, `the chain starts at position ${link.position}, but no signed digest vouches for position ${link.position - 1}`);
        const bad = checkDigest(anchor, link.prevHash);
        if (bad) return fail(link.position, link.eventId, bad);
        const young = tooYoungToBePruned(anchor, opts.pruned, `the chain starts at position ${link.position}, after the signed digest at position ${anchor.position}`);
        if (young) return fail(anchor.position, null, young);
        result.digests++;
        lastSigned = anchor.position;
      }
    } else {
      if (link.position !== prev.position + 1) {
        return link.position > prev.position + 1
          ? fail(prev.position + 1, null, `position ${prev.position + 1} is missing (the next one is ${link.position}): an event was deleted`)
          : fail(link.position, link.eventId, `position ${link.position} comes after ${prev.position}: events were reordered or inserted`);
      }
      if (link.prevHash !== prev.hash) {
        // It follows the event two back: the one in between was slipped in.
        if (beforePrev && link.prevHash === beforePrev.hash) return fail(prev.position, prev.eventId, 'this event was inserted: the event after it follows the one before it');
        return fail(link.position, link.eventId, 'its previous hash does not match the event before it: an event before it was deleted, or events were reordered');
      }
    }
    if (!looksLikeHash(link.hash) || !looksLikeHash(link.prevHash)) return fail(link.position, link.eventId, 'its hash is malformed');
    if (!link.record) return fail(link.position, link.eventId, 'the event is missing: it was deleted');
    if (link.record.eventID !== link.eventId) return fail(link.position, link.eventId, `the chain names event ${link.eventId} here, but the event is ${link.record.eventID}: events were reordered or replaced`);
    if (chainHash(link.prevHash, link.record) !== link.hash) return fail(link.position, link.eventId, 'the event does not match its hash: it was edited');
    const digest = digests.get(link.position);
    if (digest) {
      const bad = checkDigest(digest, link.hash);
      if (bad) return fail(link.position, link.eventId, bad);
      result.digests++;
      lastSigned = link.position;
    }
    beforePrev = prev;
    prev = { position: link.position, hash: link.hash, eventId: link.eventId };
    result.events++;
    result.lastPosition = link.position;
  }
  if (prev) result.unsignedTail = prev.position - Math.max(lastSigned, (result.firstPosition ?? 1) - 1);
  const end = prev?.position ?? 0;
  const positions = [...digests.keys()].sort((a, b) => a - b);
  const beyond = positions.find((position) => position > end);
  // An empty chain with digests is what pruning everything leaves, unless nothing is ever pruned.
  if (beyond !== undefined && (prev !== undefined || opts.fromGenesis)) {
    const digest = digests.get(beyond)!;
    // Only a digest this key signed says anything about events that are not there.
    if (verifyEd25519(key, digestMessage(digest), digest.signature)) {
      return prev
        ? fail(end + 1, null, `the chain ends at position ${end}, but a signed digest vouches for position ${beyond}: the events after ${end} were deleted`)
        : fail(1, null, `the chain is empty, but a signed digest vouches for position ${beyond} and nothing is pruned (auditRetentionDays is 0): its events were deleted${PRUNED_BEFORE}`);
    }
  }
  if (prev === undefined && !opts.fromGenesis && positions.length > 0) {
    // Everything pruned leaves the digests: the newest one must be past retention too.
    const newest = digests.get(positions[positions.length - 1]!)!;
    if (verifyEd25519(key, digestMessage(newest), newest.signature)) {
      const young = tooYoungToBePruned(newest, opts.pruned, `the chain is empty after the signed digest at position ${newest.position}`);
      if (young) return fail(newest.position, null, young);
    }
  }
  if (opts.digestEvery !== undefined) {
    const signed = positions.filter((position) => position <= end);
    const at = (i: number) => (signed.at(i) === undefined ? undefined : digests.get(signed.at(i)!));
    const allowed = allowedUnsignedTail(opts.digestEvery, at(-1), at(-2));
    if (result.unsignedTail > allowed) {
      return fail(
        end - result.unsignedTail + 1,
        null,
        `${result.unsignedTail} events follow the last signed digest, more than the ${allowed} the sealer leaves unsigned: digests were deleted, and the events after position ${end - result.unsignedTail} may have been rewritten`,
      );
    }
  }
  return result;
}
