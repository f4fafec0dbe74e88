// The body of POST /authorize: its zod schema, which decides what is valid and words every refusal,
// and a hand-written check that accepts only bodies the schema accepts, without its cost. A gateway
// posts one body per request its clients make, and zod's walk was a tenth of a decision's CPU.

import { z } from 'zod';

/**
 * A context value the evaluator compares whole: strings up to 8,192 characters (a longer one is
 * refused, never cut, or a suffix a Deny matches could be cut off), and numbers as they read in
 * decimal (1e21 would be "1e+21", which no Numeric condition reads).
 */
const MAX_CONTEXT_CHARS = 8192;
const contextString = z.string().max(MAX_CONTEXT_CHARS);
const contextNumber = z.number().refine((n) => !/e/i.test(String(n)), { message: 'must be a number with no more than 21 digits before the point and 6 zeros after it' });
const contextScalar = z.union([contextString, contextNumber, z.boolean()]);
const contextValue = z.union([contextScalar, z.array(contextScalar).max(256)]);
export const authorizeContext = z.record(z.string().max(256), contextValue).refine((c) => Object.keys(c).length <= 64, { message: 'at most 64 context keys' });
export const authorizeAction = z.string().regex(/^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$/, 'must be service:Action').max(256);
export const authorizeResource = z.string().min(1).max(2048);

export const authorizeInput = z
  .object({
    Method: z.string().regex(/^[A-Z]{1,16}$/),
    Path: z.string().startsWith('/').max(8192),
    Query: z.string().max(8192).optional(),
    /** Lower- or mixed-case names; repeated headers joined by ','. */
    Headers: z.record(z.string().max(256), z.string().max(8192)),
    /** Hex SHA-256 of the body the gateway received; or the body itself, base64. */
    BodySha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    Body: z.string().max(48 * 1024).optional(),
    Action: authorizeAction,
    Resource: authorizeResource,
    Context: authorizeContext.optional(),
  })
  .strict()
  .refine((v) => v.BodySha256 === undefined || v.Body === undefined, { message: 'give at most one of BodySha256 and Body' });

export type AuthorizeInput = z.infer<typeof authorizeInput>;

const FIELDS = new Set(['Method', 'Path', 'Query', 'Headers', 'BodySha256', 'Body', 'Action', 'Resource', 'Context']);
const METHOD = /^[A-Z]{1,16}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const stringUpTo = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const optionalStringUpTo = (v: unknown, max: number) => v === undefined || stringUpTo(v, max);
const scalar = (v: unknown) =>
  (typeof v === 'string' && v.length <= MAX_CONTEXT_CHARS) || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !/e/i.test(String(v)));

/** A record's own keys, or undefined for one whose keys need the schema's closer look. */
function recordKeys(v: unknown, maxKeyLength: number): string[] | undefined {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  return keys.every((k) => k.length <= maxKeyLength && k !== '__proto__') ? keys : undefined;
}

/**
 * The body as the schema would give it back, when it is plainly valid; undefined when the schema
 * must judge it (an invalid body, or an odd one), so that every refusal is worded as before.
 */
export function plainlyValidAuthorizeInput(json: unknown): AuthorizeInput | undefined {
  if (!isPlainObject(json)) return undefined;
  for (const k of Object.keys(json)) if (!FIELDS.has(k)) return undefined;
  const v = json;
  if (!(typeof v.Method === 'string' && METHOD.test(v.Method))) return undefined;
  if (!(stringUpTo(v.Path, 8192) && v.Path.startsWith('/'))) return undefined;
  if (!optionalStringUpTo(v.Query, 8192) || !optionalStringUpTo(v.Body, 48 * 1024)) return undefined;
  if (!(v.BodySha256 === undefined || (typeof v.BodySha256 === 'string' && SHA256.test(v.BodySha256)))) return undefined;
  if (v.BodySha256 !== undefined && v.Body !== undefined) return undefined;
  if (!(stringUpTo(v.Action, 256) && ACTION.test(v.Action))) return undefined;
  if (!(stringUpTo(v.Resource, 2048) && v.Resource.length >= 1)) return undefined;
  const headers = v.Headers;
  const headerNames = recordKeys(headers, 256);
  if (!headerNames || !headerNames.every((k) => stringUpTo((headers as Record<string, unknown>)[k], 8192))) return undefined;
  if (v.Context !== undefined) {
    const context = v.Context as Record<string, unknown>;
    const keys = recordKeys(context, 256);
    if (!keys || keys.length > 64) return undefined;
    for (const k of keys) {
      const value = context[k];
      if (!(scalar(value) || (Array.isArray(value) && value.length <= 256 && value.every(scalar)))) return undefined;
    }
  }
  return v as AuthorizeInput;
}
