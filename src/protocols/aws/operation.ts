// How a service file declares its operations: a strict zod input schema and a handler that calls
// the domain. Adapters translate the wire and nothing more.

import type { z } from 'zod';
import type { RequestContext } from '../../shared/context.js';
import type { DomainError } from '../../shared/errors.js';
import type { AwsError } from './errors.js';

export interface Operation {
  input: z.ZodType;
  /** True for Describe/List/Get: they are not audited as changes. */
  readOnly: boolean;
  handle(input: unknown, ctx: RequestContext): Promise<unknown>;
}

export function op<S extends z.ZodType>(
  input: S,
  handle: (input: z.infer<S>, ctx: RequestContext) => Promise<unknown>,
  opts: { readOnly?: boolean } = {},
): Operation {
  return { input, readOnly: opts.readOnly ?? false, handle: (i, ctx) => handle(i as z.infer<S>, ctx) };
}

export interface AwsJsonService {
  /** X-Amz-Target prefix before the dot, e.g. AWSIdentityStore. */
  targetPrefix: string;
  /** SigV4 signing names accepted, e.g. ['identitystore']. */
  signingNames: readonly string[];
  /** CloudTrail eventSource, e.g. identitystore.amazonaws.com. */
  eventSource: string;
  operations: Record<string, Operation>;
  /** The exception for input that fails the schema; Organizations calls it InvalidInputException. */
  validationErrorType?: string;
  /**
   * Fields (names lower-cased, at any depth) that hold a person's data: a refused change's event
   * hides their values, as the change's own event does (CloudTrail hides them too).
   */
  personalFields?: ReadonlySet<string>;
  /** Service-specific exception names (Organizations has its own). */
  errorOverride?: (e: DomainError) => AwsError | undefined;
}

/** awsJson timestamps are epoch seconds. */
export const epochSeconds = (ms: number) => ms / 1000;

/** Drop undefined and null members so that responses carry only what is set, as AWS's do. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}
