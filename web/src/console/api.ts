// The console's only way to the server: the same JSON APIs every other surface uses (identitystore,
// sso-admin, organizations, CloudTrail and the admin API), with the portal session cookie and its
// CSRF token instead of a SigV4 signature. The console has no logic of its own.

export const SIGN_IN = '/login?return_to=/console';
/** Where a session that never passed the second factor the MFA settings now require proves one. */
export const STEP_UP = '/login/mfa/step-up?return_to=%2Fconsole';

/** An AWS-shaped refusal: its exception name and the server's message, shown next to the field. */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
export const setCsrfToken = (token: string) => void (csrfToken = token);

/** "may contain only letters, digits and _+=,.@-" for a pattern that is one character class, /^[...]+$/. */
function allowedCharacters(text: string): string | undefined {
  const cls = /must match pattern \/\^\[(.+)\][+*]\$\/[a-z]*$/.exec(text)?.[1];
  if (cls === undefined) return undefined;
  const kinds = new Set<string>();
  let others = '';
  for (let i = 0; i < cls.length; i++) {
    const c = cls[i]!;
    if (c === '\\') {
      const next = cls[++i];
      if (next === 'w') kinds.add('letters').add('digits').add('_');
      else if (next === 'd') kinds.add('digits');
      else if (next === 's') kinds.add('spaces');
      else if (next === undefined || /[a-zA-Z]/.test(next)) return undefined;
      else others += next;
    } else if (cls[i + 1] === '-' && cls[i + 2] !== undefined && cls[i + 2] !== ']') {
      const range = `${c}-${cls[i + 2]}`;
      if (range === 'a-z' || range === 'A-Z') kinds.add('letters');
      else if (range === '0-9') kinds.add('digits');
      else return undefined;
      i += 2;
    } else if (c === ' ') kinds.add('spaces');
    else others += c;
  }
  if (kinds.delete('_')) others = `_${others}`;
  const words = [...kinds, ...(others ? [`these characters: ${others}`] : [])];
  return `may contain only ${words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words[0]}`;
}

/** What a constraint's wording from the server (zod's) means, for the field at `path`. */
function constraint(path: string, text: string): string {
  const key = path.split('.').pop() ?? path;
  const bound = /expected (string|array|number) to (?:have|be) ([<>]=?)(\d+)/.exec(text);
  if (bound) {
    const [, kind, op, n] = bound;
    const at = op!.startsWith('>') ? 'at least' : 'at most';
    if (kind === 'string' && op!.startsWith('>') && n === '1') return 'must not be empty';
    if (kind === 'string') return `must be ${at} ${n} characters long`;
    if (kind === 'array') return `must have ${at} ${n} items`;
    return `must be ${at} ${n}`;
  }
  if (/expected int\b/.test(text)) return 'must be a whole number';
  if (/received undefined/.test(text)) return 'is required';
  if (/must match pattern/.test(text)) {
    if (/email/i.test(key)) return 'must be an email address, such as name@example.com';
    if (/^path$/i.test(key)) return 'must start and end with / (such as / or /team/), with only letters, digits and .,+@=_- between';
    if (/username/i.test(key)) return 'contains characters that are not allowed: letters, digits, punctuation and symbols only, with no spaces';
    if (text.includes('\\p{')) return 'contains characters that are not allowed (such as control characters)';
    return allowedCharacters(text) ?? 'is not in the form it must have';
  }
  return text.replace(/^Invalid input: /, '');
}

/**
 * The server's "N validation errors detected: Value at 'X' failed to satisfy constraint: ..." in
 * words: one sentence per field ("DisplayName must not be empty."), without zod's wording or the
 * field's pattern. Other messages are kept as they are.
 */
export function readable(message: string): string {
  if (!/^\d+ validation errors? detected: /.test(message)) return message;
  const said = new Map<string, string>();
  for (const [, path, text] of message.matchAll(/Value at '([^']*)' failed to satisfy constraint: (.*?)(?=; Value at '|$)/g)) {
    // The first problem of each field (an empty one is also "not matching its pattern").
    if (!said.has(path!)) said.set(path!, `${path} ${constraint(path!, text!)}.`);
  }
  return said.size ? [...said.values()].join(' ') : message;
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as { __type?: string; message?: string };
  if (response.status === 401) window.location.assign(SIGN_IN);
  // The server's refusal names the step-up page when that is what the session lacks (console-auth.ts).
  if (response.status === 403 && body.message?.includes('/login/mfa/step-up')) window.location.assign(STEP_UP);
  if (!response.ok) throw new AwsError(response.status, body.__type ?? 'Error', readable(body.message ?? response.statusText));
  return body as T;
}

const SERVICES = {
  identitystore: 'AWSIdentityStore',
  ssoAdmin: 'SWBExternalService',
  organizations: 'AWSOrganizationsV20161128',
  cloudtrail: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
} as const;
export type Service = keyof typeof SERVICES;

/** One awsJson call, e.g. aws('identitystore', 'ListUsers', {...}). */
export async function aws<T = Record<string, unknown>>(service: Service, operation: string, input: object): Promise<T> {
  const response = await fetch('/', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${SERVICES[service]}.${operation}`, 'x-csrf-token': csrfToken ?? '' },
    body: JSON.stringify(input),
  });
  return answer<T>(response);
}

/** One admin API call (/api/admin/...). */
export async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/admin${path}`, {
    method,
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrfToken ?? '', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer<T>(response);
}

/** The signed-in user's portal session (for its CSRF token) and the start URL. */
export async function portal<T>(path: string): Promise<T> {
  return answer<T>(await fetch(`/api/portal${path}`, { credentials: 'same-origin' }));
}

/** Every page of a paged list, however many (for counting, or a tree's levels); `onPage` hears the count so far. */
export async function allPages<T>(fetchPage: (nextToken?: string) => Promise<{ items: T[]; nextToken?: string }>, onPage?: (soFar: number) => void): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await fetchPage(nextToken);
    items.push(...page.items);
    nextToken = page.nextToken;
    onPage?.(items.length);
  } while (nextToken);
  return items;
}

export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
export const when = (epochSeconds: number | undefined) => (epochSeconds === undefined ? '-' : new Date(epochSeconds * 1000).toLocaleString());

// The shapes the pages read.
export interface User {
  UserId: string;
  UserName: string;
  DisplayName?: string;
  Name?: { GivenName?: string; FamilyName?: string };
  Emails?: Email[];
  Title?: string;
}
export interface Email {
  Value?: string;
  Type?: string;
  Primary?: boolean;
}
/** The email a user is known by: the primary one, else the first (as GetUserId's `emails.value` finds it). */
export const primaryEmail = (user: Pick<User, 'Emails'>): Email | undefined => user.Emails?.find((e) => e.Primary) ?? user.Emails?.[0];
export interface Group {
  GroupId: string;
  DisplayName?: string;
  Description?: string;
}
export interface Account {
  Id: string;
  Name: string;
  Email: string;
  Status: string;
}
export interface PermissionSet {
  PermissionSetArn: string;
  Name: string;
  Description?: string;
  SessionDuration?: string;
  RelayState?: string;
  CreatedDate?: number;
}
export interface Instance {
  InstanceArn: string;
  IdentityStoreId: string;
  Region: string;
  StartUrl: string;
  IdentitySource: string;
  UserCount: number;
  GroupCount: number;
  AccountCount: number;
  PermissionSetCount: number;
}
