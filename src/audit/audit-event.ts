// The CloudTrail-shaped audit event, as the domain builds it. Secrets never go in: callers pass
// request parameters through `withoutSecrets` first.

import type { RequestContext } from '../shared/context.js';

export interface AuditEvent {
  eventId: string;
  eventTime: number;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  userIdentity: RequestContext['principal'];
  requestParameters: unknown;
  responseElements: unknown;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  readOnly: boolean;
  eventType: 'AwsApiCall' | 'AwsServiceEvent' | 'AwsConsoleSignIn';
}

/**
 * For bench/audit.mjs only: measure a write's cost without its audit event, which is then neither
 * built (`audited`) nor inserted (the audit store). `serve` says so loudly at start-up
 * (configWarnings); never set it anywhere else.
 */
export const AUDIT_OFF_FOR_BENCH = process.env.ATRIUM_BENCH_AUDIT_OFF === '1';

const SECRET_KEYS = /secret|password|token|privatekey|credential/i;
/** A pagination token, and the kind of credential a sign-in used (CloudTrail's CredentialType), are not secrets. */
const NOT_SECRET = /^(nexttoken|credentialtype)$/i;
/** Longer strings are cut, so that no caller can bloat the append-only log. */
const MAX_STRING = 1024;
const MAX_DEPTH = 8;
const MAX_ITEMS = 100;
/**
 * What the domain records of a result is built by our own code, bounded by the request it answers:
 * a list there is kept whole (a group operation's memberships), up to this many items.
 */
export const MAX_RESULT_ITEMS = 100_000;
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/**
 * Copies whose JSON.stringify text is already the chain's canonical form (keys sorted at every
 * level), so that the sealer hashes the stored text as it is instead of parsing and writing it again
 * (`canonicalRecordText`). Only `withoutSecrets` adds to it; a copy it returns is never changed after.
 */
const CANONICAL_COPIES = new WeakSet<object>();

/**
 * True when JSON.stringify(value) is the canonical text of what it writes: a scalar, or a copy made
 * by `withoutSecrets` that holds no key V8 would put out of insertion order.
 */
export function stringifiesCanonically(value: unknown): boolean {
  return value === null || typeof value !== 'object' || CANONICAL_COPIES.has(value);
}

/**
 * A bounded deep copy with every secret-looking field replaced, so an event can never carry one.
 * Lists are cut at `maxListItems` (100 for what a caller sent). Each object's keys are copied in
 * sorted order (UTF-16 code units, as the chain's canonical form sorts them), after the cut to
 * the first 100, so that JSON.stringify of the copy is usually that form already (`stringifiesCanonically`).
 */
export function withoutSecrets(value: unknown, depth = 0, maxListItems = MAX_ITEMS): unknown {
  // Saved and restored: a getter on what is copied could run another copy in between.
  const outer = inOrderSoFar;
  inOrderSoFar = true;
  try {
    const copy = copyWithoutSecrets(value, depth, maxListItems);
    if (inOrderSoFar && copy !== null && typeof copy === 'object') CANONICAL_COPIES.add(copy);
    return copy;
  } finally {
    inOrderSoFar = outer;
  }
}

/** While a copy is made: no key so far that JSON.stringify would write out of the copy's order. */
let inOrderSoFar = true;

/**
 * A key that V8 orders before the others whatever the insertion order (an array index starts with
 * a digit), or one that JSON.stringify would call (toJSON).
 */
const outOfOrder = (key: string): boolean => {
  const c = key.charCodeAt(0);
  return (c >= 48 && c <= 57) || key === 'toJSON';
};

/** Sorted in place by UTF-16 code units, as sort() without a comparator: an insertion sort, since objects here have a few keys. */
function sortKeys(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    if (keys[j]! < key) continue;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

function copyWithoutSecrets(value: unknown, depth: number, maxListItems: number): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…(${value.length} chars)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '…(nested too deep)';
  // Loops rather than entries/map/fromEntries: every audited write runs this (a hole in a list
  // stays a hole, as map leaves it).
  if (Array.isArray(value)) {
    const list: unknown[] = new Array(Math.min(value.length, maxListItems));
    for (let i = 0; i < list.length; i++) if (i in value) list[i] = copyWithoutSecrets(value[i], depth + 1, maxListItems);
    return list;
  }
  const fields = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  const keys = Object.keys(fields);
  if (keys.length > MAX_ITEMS) keys.length = MAX_ITEMS;
  sortKeys(keys);
  for (const key of keys) {
    if (inOrderSoFar && outOfOrder(key)) inOrderSoFar = false;
    const v = SECRET_KEYS.test(key) && !NOT_SECRET.test(key) ? HIDDEN : copyWithoutSecrets(fields[key], depth + 1, maxListItems);
    // An own "__proto__" stays a field, as fromEntries made it, and never sets the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
    else copy[key] = v;
  }
  return copy;
}

/**
 * Which parameter names a resource, most specific first, and the CloudTrail ResourceType it gets.
 * `atrium audit verify` recomputes every chained event's lookup columns with `lookupFieldsOf`, so a
 * change here would make the columns of events already written disagree: it needs a migration that
 * rewrites them (and their `audit_lookup` keys) first.
 */
const RESOURCE_KEYS: readonly [string, string][] = [
  ['userId', 'AWS::IdentityStore::User'],
  ['groupId', 'AWS::IdentityStore::Group'],
  ['membershipId', 'AWS::IdentityStore::GroupMembership'],
  ['permissionSetArn', 'AWS::SSO::PermissionSet'],
  ['targetId', 'AWS::Organizations::Account'],
  ['accountId', 'AWS::Organizations::Account'],
  ['organizationalUnitId', 'AWS::Organizations::OrganizationalUnit'],
  ['resourceArn', 'AWS::Resource'],
  ['resourceId', 'AWS::Resource'],
  ['accessKeyId', 'AWS::IAM::AccessKey'],
  ['tokenId', 'Atrium::ScimToken'],
  ['clientId', 'AWS::SSOOIDC::Client'],
  ['userName', 'AWS::IdentityStore::User'],
  ['entityId', 'Atrium::SamlIdentityProvider'],
  ['instanceArn', 'AWS::SSO::Instance'],
  ['identityStoreId', 'AWS::IdentityStore::IdentityStore'],
];

/** Each resource key with its PascalCase spelling (AWS's wire names), made once. */
const RESOURCE_LOOKUPS: readonly [string, string, string][] = RESOURCE_KEYS.map(([key, type]) => [key, key[0]!.toUpperCase() + key.slice(1), type]);

/** The one resource an event is about, for LookupEvents' ResourceType and ResourceName: read from its parameters, then its result. */
export function resourceOf(e: Pick<AuditEvent, 'requestParameters' | 'responseElements'>): { type: string; name: string } | undefined {
  const sources = [e.requestParameters, e.responseElements].filter(
    (v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v),
  );
  for (const [key, pascalKey, type] of RESOURCE_LOOKUPS) {
    for (const fields of sources) {
      const value = fields[key] ?? fields[pascalKey];
      if (typeof value === 'string' && value !== '' && value !== HIDDEN) return { type, name: value.slice(0, 512) };
    }
  }
  return undefined;
}

/** LookupEvents' columns of an event (audit_events.user_name, access_key_id, resource_type, resource_name). */
export interface LookupFields {
  userName: string | null;
  accessKeyId: string | null;
  resourceType: string | null;
  resourceName: string | null;
}

// eslint-disable-next-line no-control-regex -- NUL is what PostgreSQL's text cannot hold
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A lookup column's value: cut to the column, without NUL (PostgreSQL cannot store it in text; a
 * refused request's parameters may hold one, the JSON columns keep it escaped), and with a lone
 * surrogate (a cut through a pair) as U+FFFD, which is what either database stores for it.
 */
function lookupColumn(v: string | undefined, max: number): string | null {
  return v === undefined ? null : v.replace(NUL, '').slice(0, max).replace(LONE_SURROGATE, '\ufffd');
}

/**
 * The lookup columns of an event, from its hashed record alone: the insert writes them, and
 * `atrium audit verify` recomputes them for every chained event and compares, since the columns
 * (and the `audit_lookup` keys copied from them) are outside what the chain hashes.
 */
export function lookupFieldsOf(e: Pick<AuditEvent, 'userIdentity' | 'requestParameters' | 'responseElements'>): LookupFields {
  const resource = resourceOf(e);
  return {
    userName: lookupColumn(e.userIdentity.userName, 128),
    accessKeyId: lookupColumn(e.userIdentity.accessKeyId, 128),
    resourceType: lookupColumn(resource?.type, 64),
    resourceName: lookupColumn(resource?.name, 512),
  };
}
