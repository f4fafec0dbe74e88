// The one mapper from domain errors to AWS's error shape: the X-Amzn-ErrorType header, a body
// {"__type", "message"} and the status from the service model. Internal causes never go out.

import { isDomainError, type DomainError } from '../../shared/errors.js';

export interface AwsError {
  status: number;
  type: string;
  message: string;
  /** Extra members of the exception shape (ResourceType, Reason …). */
  fields?: Record<string, unknown>;
}

const AUTH: Record<string, { type: string; status: number }> = {
  'auth.missing': { type: 'MissingAuthenticationTokenException', status: 403 },
  'auth.unknown_key': { type: 'UnrecognizedClientException', status: 403 },
  'auth.signature_mismatch': { type: 'InvalidSignatureException', status: 403 },
  'auth.expired': { type: 'InvalidSignatureException', status: 403 },
  'auth.incomplete': { type: 'IncompleteSignatureException', status: 400 },
  'auth.bad_scope': { type: 'InvalidSignatureException', status: 403 },
};

/** The common mapping used by identitystore and sso-admin; services may override per code. */
export function toAwsError(err: unknown, override?: (e: DomainError) => AwsError | undefined): AwsError {
  if (!isDomainError(err)) return { status: 500, type: 'InternalServerException', message: 'An internal error occurred.' };
  const specific = override?.(err);
  if (specific) return specific;
  const d = err.details;
  switch (err.kind) {
    case 'unauthenticated': {
      const a = AUTH[err.code] ?? { type: 'UnrecognizedClientException', status: 403 };
      return { ...a, message: err.message };
    }
    case 'not_found':
      return {
        status: 404,
        type: 'ResourceNotFoundException',
        message: err.message,
        fields: { ...(d.resourceType ? { ResourceType: d.resourceType } : {}), ...(d.resourceId ? { ResourceId: d.resourceId } : {}) },
      };
    case 'already_exists':
    case 'failed_precondition':
      return { status: 409, type: 'ConflictException', message: err.message, fields: d.reason ? { Reason: d.reason } : {} };
    case 'invalid_argument':
      return { status: 400, type: 'ValidationException', message: err.message };
    case 'permission_denied':
      return { status: 403, type: 'AccessDeniedException', message: err.message };
    case 'quota_exceeded':
      return { status: 402, type: 'ServiceQuotaExceededException', message: err.message };
    case 'throttled':
      return { status: 429, type: 'ThrottlingException', message: err.message };
    case 'unavailable':
      return { status: 503, type: 'ServiceUnavailableException', message: err.message };
    default:
      return { status: 500, type: 'InternalServerException', message: 'An internal error occurred.' };
  }
}
