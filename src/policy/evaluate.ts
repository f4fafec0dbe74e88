// The IAM policy evaluator: policies compiled once into matchers, then evaluated the AWS way —
// an explicit deny beats an allow, an allow beats the implicit deny, and the permissions boundary
// must allow too.

import { compileCondition, type CompiledCondition, type ContextValues } from './conditions.js';
import type { Effect, PolicyDocument, Statement } from './policy-document.js';
import { compilePattern, type CompiledPattern, type VariableLookup } from './wildcard.js';

/** A request context value as callers give it; numbers and booleans compare as IAM's strings. */
export type ContextValue = string | number | boolean | readonly (string | number | boolean)[];

export interface AuthorizationRequest {
  /** `service:Action`; matched without regard to case. */
  readonly action: string;
  /** The resource ARN (or `*`); matched case-sensitively. */
  readonly resource: string;
  /** Condition keys (`aws:username`, `aws:PrincipalTag/team`, `s3:prefix` …); key names ignore case. */
  readonly context?: Readonly<Record<string, ContextValue | undefined>>;
}

/** Where a policy came from, for answers that name the deciding statement. */
export interface PolicySource {
  /** e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`, `inline`, `boundary:…` */
  readonly policyId: string;
  /** The permission set (or other holder) the policy is attached to, when known. */
  readonly origin?: string;
}

export interface DecidingStatement extends PolicySource {
  readonly sid?: string;
  /** The statement's position in its policy's Statement list. */
  readonly index: number;
  readonly effect: Effect;
}

export type Decision =
  | { readonly decision: 'Allow'; readonly allowed: true; readonly statement: DecidingStatement }
  | { readonly decision: 'ExplicitDeny'; readonly allowed: false; readonly statement: DecidingStatement }
  | {
      readonly decision: 'ImplicitDeny';
      readonly allowed: false;
      /** `no_allow`: no identity statement allows; `boundary`: allowed, but not by the boundary. */
      readonly reason: 'no_allow' | 'boundary';
    };

interface CompiledStatement {
  readonly deciding: DecidingStatement;
  readonly actionNegated: boolean;
  readonly actions: readonly CompiledPattern[];
  /** Lower-cased services this statement's Action names exactly; undefined when any service may match. */
  readonly services: ReadonlySet<string> | undefined;
  readonly resourceNegated: boolean;
  readonly resources: readonly CompiledPattern[];
  readonly resourceAll: boolean;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly source: PolicySource;
  readonly statements: readonly CompiledStatement[];
}

/** The service of an action pattern when it names one without wildcards (`s3:Get*` → `s3`). */
function serviceOf(pattern: string): string | undefined {
  const colon = pattern.indexOf(':');
  if (colon < 0) return undefined;
  const service = pattern.slice(0, colon).toLowerCase();
  return /[*?]/.test(service) ? undefined : service;
}

function compileStatement(st: Statement, index: number, source: PolicySource, variables: boolean): CompiledStatement {
  const actionServices = st.action.negated ? undefined : st.action.patterns.map(serviceOf);
  return {
    deciding: { ...source, ...(st.sid ? { sid: st.sid } : {}), index, effect: st.effect },
    actionNegated: st.action.negated,
    // Actions ignore case and take no policy variables.
    actions: st.action.patterns.map((p) => compilePattern(p, { variables: false, foldCase: true })),
    services: actionServices && actionServices.every((s) => s !== undefined) ? new Set(actionServices) : undefined,
    resourceNegated: st.resource.negated,
    resources: st.resource.patterns.map((p) => compilePattern(p, { variables })),
    resourceAll: !st.resource.negated && st.resource.patterns.includes('*'),
    conditions: st.conditions.map((c) => compileCondition(c, variables)),
  };
}

/** Compile a parsed policy; keep the result for as long as this version of the policy lives. */
export function compilePolicy(document: PolicyDocument, source: PolicySource): CompiledPolicy {
  const variables = document.version === '2012-10-17';
  return Object.freeze({ source, statements: document.statements.map((st, i) => compileStatement(st, i, source, variables)) });
}

/**
 * The policies that apply to one principal: identity policies (managed, customer-managed and
 * inline) and an optional permissions boundary. Statements are indexed by service once, so an
 * evaluation looks only at those that can name the action.
 */
export class PolicySet {
  private readonly byService = new Map<string, { identity: CompiledStatement[]; boundary: CompiledStatement[] }>();

  constructor(
    readonly identity: readonly CompiledPolicy[],
    readonly boundary?: readonly CompiledPolicy[],
  ) {}

  candidates(service: string): { identity: CompiledStatement[]; boundary: CompiledStatement[] } {
    let found = this.byService.get(service);
    if (!found) {
      const pick = (policies: readonly CompiledPolicy[]) =>
        policies.flatMap((p) => p.statements.filter((s) => s.services === undefined || s.services.has(service)));
      found = { identity: pick(this.identity), boundary: pick(this.boundary ?? []) };
      // Bounded: an attacker-chosen action name must not grow the cache without limit.
      if (this.byService.size < 2048) this.byService.set(service, found);
    }
    return found;
  }
}

/** Numbers of values per key and characters per value that a context may carry into matching. */
const MAX_VALUES_PER_KEY = 256;
const MAX_VALUE_CHARS = 8192;

function toStrings(value: unknown): string[] | undefined {
  const one = (v: unknown): string | undefined =>
    typeof v === 'string' ? v.slice(0, MAX_VALUE_CHARS) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  if (Array.isArray(value)) return value.slice(0, MAX_VALUES_PER_KEY).flatMap((v) => one(v) ?? []);
  const s = one(value);
  return s === undefined ? undefined : [s];
}

/** The request's context with lower-cased keys; values that are not strings, numbers or booleans are dropped. */
export function prepareContext(context: AuthorizationRequest['context']): ContextValues {
  const out = new Map<string, string[]>();
  if (context === null || typeof context !== 'object') return out;
  for (const key of Object.keys(context)) {
    const values = toStrings((context as Record<string, unknown>)[key]);
    if (values !== undefined) out.set(key.toLowerCase(), values);
  }
  return out;
}

/** A policy variable takes a single value: a multi-valued key cannot be substituted. */
const lookupIn =
  (ctx: ContextValues): VariableLookup =>
  (key) => {
    const values = ctx.get(key);
    return values?.length === 1 ? values[0] : undefined;
  };

function statementMatches(st: CompiledStatement, action: string, resource: string, ctx: ContextValues, lookup: VariableLookup): boolean {
  let actionHit = false;
  for (const a of st.actions) {
    if (a.matches(action)) {
      actionHit = true;
      break;
    }
  }
  if (actionHit === st.actionNegated) return false;
  if (!st.resourceAll) {
    let resourceHit = false;
    for (const r of st.resources) {
      if (r.matches(resource, lookup)) {
        resourceHit = true;
        break;
      }
    }
    if (resourceHit === st.resourceNegated) return false;
  }
  for (const c of st.conditions) if (!c(ctx, lookup)) return false;
  return true;
}

function firstMatch(statements: readonly CompiledStatement[], effect: Effect, action: string, resource: string, ctx: ContextValues, lookup: VariableLookup) {
  for (const st of statements) if (st.deciding.effect === effect && statementMatches(st, action, resource, ctx, lookup)) return st;
  return undefined;
}

/**
 * Evaluate one request. Never throws: a context value of the wrong type is ignored, as a key the
 * request does not carry.
 */
export function evaluate(set: PolicySet, request: AuthorizationRequest): Decision {
  const action = typeof request.action === 'string' ? request.action.toLowerCase() : '';
  const resource = typeof request.resource === 'string' ? request.resource : '';
  const ctx = prepareContext(request.context);
  const lookup = lookupIn(ctx);
  const colon = action.indexOf(':');
  const { identity, boundary } = set.candidates(colon < 0 ? action : action.slice(0, colon));
  const deny = firstMatch(identity, 'Deny', action, resource, ctx, lookup) ?? firstMatch(boundary, 'Deny', action, resource, ctx, lookup);
  if (deny) return { decision: 'ExplicitDeny', allowed: false, statement: deny.deciding };
  const allow = firstMatch(identity, 'Allow', action, resource, ctx, lookup);
  if (!allow) return { decision: 'ImplicitDeny', allowed: false, reason: 'no_allow' };
  if (set.boundary && !firstMatch(boundary, 'Allow', action, resource, ctx, lookup)) {
    return { decision: 'ImplicitDeny', allowed: false, reason: 'boundary' };
  }
  return { decision: 'Allow', allowed: true, statement: allow.deciding };
}
