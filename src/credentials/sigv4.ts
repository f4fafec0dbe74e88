// AWS Signature Version 4 verification, in the Authorization header or, where the caller allows it,
// in a presigned URL's query string, with the canonical request built as AWS's
// signers build it: for S3 the path as sent and the signed x-amz-content-sha256 as the payload's
// hash (checked against the body whenever the body or its hash is known); for every other service
// the path normalised and encoded once more, and the body hashed here. Signatures are compared in
// constant time.

import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../shared/errors.js';

export interface SignedRequest {
  method: string;
  /** Path as it arrived on the wire (still percent-encoded), without the query. */
  path: string;
  /** Raw query string without '?', or ''. */
  query: string;
  /** Lower-case header names. Repeated headers joined with ','. */
  headers: Record<string, string | undefined>;
  /**
   * The body; undefined when the verifier knows neither it nor its hash (a gateway calling
   * POST /authorize that sent neither): S3 then takes the signed x-amz-content-sha256 at its word,
   * and every other service signs an empty body.
   */
  body: Buffer | undefined;
  /**
   * The body's SHA-256 in hex, when the verifier never holds the body: a gateway calling
   * POST /authorize hashes what it received. Otherwise the body is hashed here.
   */
  bodySha256?: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** The session token: the x-amz-security-token header, or a presigned URL's X-Amz-Security-Token. */
  securityToken?: string;
  /** Signed in the query string (a presigned URL): the canonical query leaves X-Amz-Signature out. */
  presigned?: boolean;
}

export const MAX_SKEW_MS = 15 * 60 * 1000;
/** A presigned URL's X-Amz-Expires: 1 s to 7 days (a signing key's life), as AWS's signers allow. */
const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const authError = (code: string, message: string) => new DomainError('unauthenticated', code, message);
const signatureMismatch = () =>
  authError(
    'auth.signature_mismatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  );

/** A signature's parts as the request gives them, from the Authorization header or a presigned URL. */
interface SignatureParts {
  credential: string;
  signedHeaderList: string;
  signature: string;
  amzDate: string | undefined;
  securityToken: string | undefined;
  /** A presigned URL's X-Amz-Expires, in seconds; undefined for the Authorization header. */
  expiresSeconds?: number;
}

function headerParts(req: SignedRequest, header: string): SignatureParts {
  const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]{64})\s*$/.exec(header);
  if (!m) {
    throw authError('auth.incomplete', "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters in AWS4-HMAC-SHA256 form.");
  }
  const [, credential, signedHeaderList, signature] = m as unknown as [string, string, string, string];
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!amzDate || !AMZ_DATE.test(amzDate)) throw authError('auth.incomplete', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  return { credential, signedHeaderList, signature, amzDate, securityToken: headerValue(req.headers, 'x-amz-security-token') };
}

const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const QUERY_AUTH = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'] as const;
type QueryAuthName = (typeof QUERY_AUTH)[number];

/** A presigned URL's parts (AWS's "query string authentication"), or undefined when the query holds none. */
function queryParts(query: string): SignatureParts | undefined {
  if (!query.includes('X-Amz-')) return undefined;
  const given = new Map<QueryAuthName, string>();
  for (const [k, v] of new URLSearchParams(query)) {
    const name = QUERY_AUTH.find((n) => n === k);
    if (!name) continue;
    if (given.has(name)) throw authError('auth.incomplete', `The query parameter ${name} must be given once.`);
    given.set(name, v);
  }
  if (!given.has('X-Amz-Algorithm')) return undefined;
  if (given.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw authError('auth.incomplete', 'X-Amz-Algorithm only supports AWS4-HMAC-SHA256.');
  const credential = given.get('X-Amz-Credential');
  const signedHeaderList = given.get('X-Amz-SignedHeaders');
  const signature = given.get('X-Amz-Signature');
  const amzDate = given.get('X-Amz-Date');
  const expires = given.get('X-Amz-Expires');
  if (!credential || !signedHeaderList || !signature || !/^[0-9a-f]{64}$/.test(signature) || !amzDate || !AMZ_DATE.test(amzDate) || !expires) {
    throw authError('auth.incomplete', 'A presigned request requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature query parameters.');
  }
  const expiresSeconds = /^\d{1,6}$/.test(expires) ? Number(expires) : 0;
  if (expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) throw authError('auth.incomplete', `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}.`);
  return { credential, signedHeaderList, signature, amzDate, securityToken: given.get('X-Amz-Security-Token'), expiresSeconds };
}

/**
 * Parse and check the shape of a request's signature; no secret needed yet. The signature is in
 * the Authorization header; with `presigned`, a request without one may carry it in its query
 * string instead (a presigned URL: only for requests whose whole meaning is in the URL, since the
 * body is not signed there).
 */
export function parseAuthorization(req: SignedRequest, expectedServices: readonly string[], now: number, opts: { presigned?: boolean } = {}): ParsedAuthorization {
  const header = headerValue(req.headers, 'authorization');
  const parts = header ? headerParts(req, header) : opts.presigned ? queryParts(req.query) : undefined;
  if (!parts) throw authError('auth.missing', 'Missing Authentication Token');
  const { credential, signedHeaderList, signature, amzDate = '', securityToken, expiresSeconds } = parts;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw authError('auth.incomplete', 'Credential should be scoped to a valid region, service and aws4_request terminator.');
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  if (!expectedServices.includes(service)) {
    throw authError('auth.bad_scope', `Credential should be scoped to correct service: '${expectedServices[0]}'.`);
  }
  if (amzDate.slice(0, 8) !== date) throw authError('auth.bad_scope', 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  const nowText = new Date(now).toISOString().replace(/[-:]|\.\d+/g, '');
  if (expiresSeconds === undefined) {
    if (Math.abs(now - signedAt) > MAX_SKEW_MS) throw authError('auth.expired', `Signature expired: ${amzDate} is now earlier or later than ${nowText} by more than 15 min.`);
  } else if (signedAt - now > MAX_SKEW_MS) {
    throw authError('auth.expired', `Signature not yet current: ${amzDate} is still later than ${nowText} by more than 15 min.`);
  } else if (now - signedAt > Math.min(expiresSeconds * 1000, MAX_SKEW_MS)) {
    // As AWS's STS does, a presigned request is good for at most 15 minutes, whatever it asks.
    throw authError('auth.expired', `Signature expired: ${amzDate} is now earlier than ${nowText} by more than ${Math.min(expiresSeconds, MAX_SKEW_MS / 1000)} s (X-Amz-Expires, at most 900).`);
  }
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw authError('auth.bad_scope', 'Credential should be scoped to a valid region.');
  const signedHeaders = signedHeaderList.split(';');
  const sortedUnique = signedHeaders.every((h, i) => i === 0 || (signedHeaders[i - 1] as string) < h);
  if (!sortedUnique) throw authError('auth.incomplete', 'SignedHeaders must be lower-case, sorted and without repeats.');
  for (const h of signedHeaders) {
    if (headerValue(req.headers, h) === undefined) throw authError('auth.incomplete', `Signed header ${h} is missing from the request.`);
  }
  // Whatever can change the meaning of a request must be signed: the operation travels in
  // X-Amz-Target and the protocol in Content-Type, so an unsigned one could be swapped in transit.
  const unsigned = signedHeaders.includes('host') ? [] : ['host'];
  for (const h of Object.keys(req.headers)) if ((h.startsWith('x-amz-') || h === 'content-type') && !signedHeaders.includes(h)) unsigned.push(h);
  if (unsigned.length > 0) throw authError('auth.incomplete', `These headers must be signed: ${unsigned.join(', ')}.`);
  return { accessKeyId, date, region, service, signedHeaders, signature, amzDate, ...(securityToken !== undefined ? { securityToken } : {}), ...(expiresSeconds !== undefined ? { presigned: true } : {}) };
}

const sha256hex = (data: string | Buffer) => hash('sha256', data, 'hex');

/**
 * RFC 3986 encoding, as SigV4 wants it: all but A-Z a-z 0-9 - . _ ~ percent-encoded as UTF-8. A
 * string no signer could encode (a lone surrogate, which only a posted JSON string can hold) has no
 * signature that could match.
 */
function uriEncode(s: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(s);
  } catch {
    throw signatureMismatch();
  }
  return encoded.replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** S3 signs the path as it was sent, neither normalised nor encoded again; every other service does both. */
const isS3 = (service: string) => service === 's3';

/** A path of unreserved characters without empty, `.` or `..` segments: normalising and encoding leave it as it is. */
const PLAIN_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9\-._~]+)*\/?$/;

/**
 * The canonical URI of a path as sent (encoded once by the client), as AWS's signers build it
 * (`getCanonicalPath` in @smithy/signature-v4, `_normalize_url_path` in botocore): for S3, the
 * path itself; for any other service, without empty and `.` segments, `..` taking the segment
 * before it away, a trailing `/` kept, and each segment encoded once more (so `%20` is `%2520`,
 * and `+` or `'` sent as is are `%2B` and `%27`).
 */
function canonicalPath(raw: string, service: string): string {
  // S3 paths go as they are, and every AWS JSON and query call posts to '/'.
  if (isS3(service) || PLAIN_PATH.test(raw)) return raw || '/';
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const trailing = segments.length > 0 && raw.endsWith('/') ? '/' : '';
  return `${raw.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}` || '/';
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical query; a presigned request's leaves out its own signature. */
function canonicalQuery(raw: string, presigned = false): string {
  if (!raw) return '';
  return raw
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEncode(safeDecode(k.replace(/\+/g, '%20'))), uriEncode(safeDecode(v.replace(/\+/g, '%20')))] as const;
    })
    .filter(([k]) => !(presigned && k === 'X-Amz-Signature'))
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** A header's own value as a string (repeated headers joined by ','), never an inherited property. */
function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  if (!Object.hasOwn(headers, name)) return undefined;
  const value: unknown = headers[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return undefined;
}

/** Whitespace that a canonical header value would lose or fold: at either end, in a run, or other than a space. */
const FOLDABLE = /^\s|\s$|\s\s|[^\S ]/;

/** A header value trimmed, with inner runs of whitespace folded to one space. */
function canonicalValue(value: string): string {
  return FOLDABLE.test(value) ? value.trim().replace(/\s+/g, ' ') : value;
}

const EMPTY_SHA256 = sha256hex('');
const UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The canonical request's last line. Every service but S3 signs the body's SHA-256, which is
 * computed here (or given by a gateway that hashed what it received). S3 signs the value of its
 * x-amz-content-sha256 header (signed, as every x-amz- header must be): `UNSIGNED-PAYLOAD` (or its
 * trailer form) as it is, or the body's hash, which must then be the hash of the body, when known.
 */
function payloadHash(req: SignedRequest, service: string): string {
  const known = req.bodySha256 ?? (req.body === undefined ? undefined : sha256hex(req.body));
  const declared = isS3(service) ? headerValue(req.headers, 'x-amz-content-sha256') : undefined;
  if (declared === undefined) return known ?? EMPTY_SHA256;
  if (UNSIGNED_PAYLOADS.has(declared)) return declared;
  if (!SHA256_HEX.test(declared)) {
    throw authError(
      'auth.incomplete',
      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or the payload's SHA-256 in lower-case hex; chunk-signed (STREAMING-AWS4-…) uploads cannot be verified here.",
    );
  }
  if (known !== undefined && known !== declared) throw authError('auth.signature_mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  return declared;
}

export function canonicalRequest(req: SignedRequest, auth: Pick<ParsedAuthorization, 'service' | 'signedHeaders' | 'presigned'>): string {
  const { service, signedHeaders, presigned } = auth;
  let headers = '';
  for (const h of signedHeaders) headers += `${h}:${canonicalValue(headerValue(req.headers, h) ?? '')}\n`;
  return `${req.method.toUpperCase()}\n${canonicalPath(req.path, service)}\n${canonicalQuery(req.query, presigned)}\n${headers}\n${signedHeaders.join(';')}\n${payloadHash(req, service)}`;
}

/**
 * Signing keys are cached per secret, day, region and service: four HMACs saved per request.
 * Only keys that verified a signature are kept, so that nobody who lacks the secret can fill it.
 */
const signingKeys = new Map<string, Buffer>();
const MAX_SIGNING_KEYS = 1_000;

/**
 * The signing keys of one secret, by `date/region/service`, kept by whoever holds that secret (an
 * opened session token): the shared cache's key costs a SHA-256 of the secret on every request.
 */
export type OwnSigningKeys = Map<string, Buffer>;
/** A holder signs for a few days, regions and services at a time. */
const MAX_OWN_SIGNING_KEYS = 8;

function deriveSigningKey(secret: string, auth: ParsedAuthorization): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret).update(auth.date).digest();
  const kRegion = createHmac('sha256', kDate).update(auth.region).digest();
  const kService = createHmac('sha256', kRegion).update(auth.service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

function signingKeyOf(secret: string, auth: ParsedAuthorization, own?: OwnSigningKeys): { cache: Map<string, Buffer>; cacheKey: string; max: number; key: Buffer } {
  const scope = `${auth.date}/${auth.region}/${auth.service}`;
  const [cache, cacheKey, max] = own ? [own, scope, MAX_OWN_SIGNING_KEYS] : [signingKeys, `${sha256hex(secret)}/${scope}`, MAX_SIGNING_KEYS];
  return { cache, cacheKey, max, key: cache.get(cacheKey) ?? deriveSigningKey(secret, auth) };
}

function sign(req: SignedRequest, auth: ParsedAuthorization, key: Buffer): Buffer {
  const stringToSign = `AWS4-HMAC-SHA256\n${auth.amzDate}\n${auth.date}/${auth.region}/${auth.service}/aws4_request\n${sha256hex(canonicalRequest(req, auth))}`;
  return createHmac('sha256', key).update(stringToSign).digest();
}

export function signatureFor(req: SignedRequest, auth: ParsedAuthorization, secret: string): string {
  return sign(req, auth, signingKeyOf(secret, auth).key).toString('hex');
}

/** Throws unless `auth.signature` is the request's signature with `secret`; `own` keeps the secret's signing keys. */
export function verifySignature(req: SignedRequest, auth: ParsedAuthorization, secret: string, own?: OwnSigningKeys): void {
  const { cache, cacheKey, max, key } = signingKeyOf(secret, auth, own);
  const expected = sign(req, auth, key);
  const given = Buffer.from(auth.signature, 'hex');
  const ok = expected.length === given.length && timingSafeEqual(expected, given);
  if (ok && !cache.has(cacheKey)) {
    if (cache.size >= max) cache.clear();
    cache.set(cacheKey, key);
  }
  if (!ok) throw signatureMismatch();
}
