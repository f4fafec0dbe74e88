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

const SECRET_KEYS = /secret|password|token|privatekey|credential/i;

/** A deep copy with every secret-looking field replaced, so an event can never carry one. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEYS.test(k) && !/^(next|)token$/i.test(k) ? 'HIDDEN_DUE_TO_SECURITY_REASONS' : withoutSecrets(v),
      ]),
    );
  }
  return value;
}
