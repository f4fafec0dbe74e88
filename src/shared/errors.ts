// The one catalogue of domain errors. Every protocol adapter maps these to its own wire shape;
// `message` is safe to show a client, and internal causes never travel with it.

export type ErrorKind =
  | 'not_found'
  | 'already_exists'
  | 'invalid_argument'
  | 'failed_precondition'
  | 'permission_denied'
  | 'unauthenticated'
  | 'quota_exceeded'
  | 'throttled'
  /** Nothing is wrong with the request, but it could not be served now (the database stayed locked): retry it. */
  | 'unavailable'
  | 'internal';

export interface ErrorDetails {
  /** AWS-style resource type for not_found (USER, GROUP, GROUP_MEMBERSHIP, PERMISSION_SET …). */
  resourceType?: string;
  resourceId?: string;
  /** Conflict reason (UNIQUENESS_CONSTRAINT_VIOLATION, CONCURRENT_MODIFICATION). */
  reason?: string;
  /** For `throttled`: how long to wait before trying again (Retry-After). */
  retryAfterSeconds?: number;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: ErrorKind,
    /** Stable machine code, e.g. `directory.user_not_found`. Adapters may map it to a specific wire name. */
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

export const notFound = (code: string, message: string, details?: ErrorDetails) =>
  new DomainError('not_found', code, message, details);
export const alreadyExists = (code: string, message: string, details?: ErrorDetails) =>
  new DomainError('already_exists', code, message, { reason: 'UNIQUENESS_CONSTRAINT_VIOLATION', ...details });
export const invalidArgument = (code: string, message: string) => new DomainError('invalid_argument', code, message);
export const failedPrecondition = (code: string, message: string, details?: ErrorDetails) =>
  new DomainError('failed_precondition', code, message, details);
export const quotaExceeded = (code: string, message: string) => new DomainError('quota_exceeded', code, message);
export const unavailable = (code: string, message: string) => new DomainError('unavailable', code, message);
/** Seconds an `unavailable` answer tells the client to wait before it retries (Retry-After). */
export const RETRY_UNAVAILABLE_SECONDS = 1;

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/** A setting (a flag, an environment variable, the config file) that cannot be used: the CLI exits 2, naming it. */
export class ConfigError extends Error {}
