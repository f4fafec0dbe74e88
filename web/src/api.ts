// The server's portal routes, as the app calls them. A 401 means the session ended: back to sign-in.

export interface Session {
  sessionId: string;
  userName: string;
  expiresAt: number;
  csrfToken: string;
}

/** One of the signed-in user's own portal sessions. */
export interface OwnSession {
  sessionId: string;
  /** Epoch seconds. */
  createdAt: number;
  /** Epoch seconds. */
  expiresAt: number;
  sourceIp: string;
  userAgent: string;
  /** The session of this browser. */
  current: boolean;
}

export interface Account {
  accountId: string;
  accountName: string;
  emailAddress: string;
  roles: string[];
}

export interface Configuration {
  startUrl: string;
  region: string;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch seconds. */
  expiration: number;
}

export const SIGN_IN = '/login?return_to=/start';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Where the session proves its second factor, when that is what the refusal asks for. */
    readonly stepUp?: string,
  ) {
    super(message);
  }
}

/** The server's step-up page, and nothing else: a refusal never sends the browser elsewhere. */
const stepUpOf = (link: unknown) => (typeof link === 'string' && link.startsWith('/login/mfa/step-up?') ? link : undefined);

export async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (response.status === 401) window.location.assign(SIGN_IN);
  const body = (await response.json().catch(() => ({}))) as { message?: string; stepUp?: unknown };
  if (!response.ok) throw new ApiError(response.status, body.message ?? response.statusText, stepUpOf(body.stepUp));
  return body as T;
}

export const fetchSession = () => call<Session>('/api/portal/session');
export const fetchConfiguration = () => call<Configuration>('/api/portal/configuration');
export const fetchAccounts = () => call<{ accounts: Account[] }>('/api/portal/accounts').then((r) => r.accounts);

export const fetchRoleCredentials = (csrfToken: string, accountId: string, roleName: string) =>
  call<RoleCredentials>('/api/portal/credentials', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify({ accountId, roleName }),
  });

export const fetchOwnSessions = () => call<{ sessions: OwnSession[] }>('/api/portal/sessions').then((r) => r.sessions);

/** Ends one of the user's sessions; ending the current one signs this browser out. */
export const endOwnSession = (csrfToken: string, sessionId: string) =>
  call<unknown>(`/api/portal/sessions/${encodeURIComponent(sessionId)}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } });

/** What to show for a failed call. */
export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
