// ABAC: the instance's access control attributes map a user's attributes to session tags, which
// the issued credentials carry and conditions match as aws:PrincipalTag/<key>.

import type { AccessControlAttribute } from '../access/index.js';

/** The user as ABAC reads it: the profile (SCIM-shaped) and the enterprise extension. */
export interface AbacUser {
  profile: Record<string, unknown>;
  extensions?: Record<string, Record<string, unknown>>;
}

const ENTERPRISE = 'aws:identitystore:enterprise';
/** AWS: a session tag value has at most 256 characters, a key at most 128, and a session at most 50 tags. */
const MAX_VALUE = 256;
const MAX_KEY = 128;
const MAX_TAGS = 50;

const asText = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/** `${path:…}` as AWS documents the sources: `userName`, `name.givenName`, `emails[primary eq true].value`, `enterprise.department` … */
export function resolveAttributePath(user: AbacUser, source: string): string | undefined {
  const m = /^\$\{path:([A-Za-z0-9_.[\] ]+)\}$/.exec(source.trim());
  if (!m) return undefined;
  const path = m[1] as string;
  const filtered = /^(\w+)\[primary eq true\]\.(\w+)$/.exec(path);
  if (filtered) {
    const list = user.profile[filtered[1] as string];
    if (!Array.isArray(list)) return undefined;
    const primary = (list as Record<string, unknown>[]).find((e) => e.primary === true) ?? (list.length === 1 ? (list[0] as Record<string, unknown>) : undefined);
    return asText(primary?.[filtered[2] as string]);
  }
  const [head, ...rest] = path.split('.');
  let node: unknown = head === 'enterprise' ? user.extensions?.[ENTERPRISE] : user.profile[head as string];
  for (const key of rest) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return asText(node);
}

/** The session tags for a user: one per attribute whose source resolves to a non-empty value. */
export function sessionTagsFor(attributes: readonly AccessControlAttribute[], user: AbacUser): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const a of attributes.slice(0, MAX_TAGS)) {
    if (a.Key.length > MAX_KEY) continue;
    const value = a.Value.Source.map((s) => resolveAttributePath(user, s)).find((v) => v !== undefined && v !== '');
    if (value !== undefined) tags[a.Key] = value.slice(0, MAX_VALUE);
  }
  return tags;
}
