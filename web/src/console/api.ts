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

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as { __type?: string; message?: string };
  if (response.status === 401) window.location.assign(SIGN_IN);
  // The server's refusal names the step-up page when that is what the session lacks (console-auth.ts).
  if (response.status === 403 && body.message?.includes('/login/mfa/step-up')) window.location.assign(STEP_UP);
  if (!response.ok) throw new AwsError(response.status, body.__type ?? 'Error', body.message ?? response.statusText);
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
