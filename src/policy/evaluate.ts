// The IAM policy evaluator: policies compiled once into matchers, then evaluated the AWS way —
// an explicit deny beats an allow, an allow beats the implicit deny, and the permissions boundary
// must allow too.

import { compileCondition, type CompiledCondition, type ContextValues } from './conditions.js';
import type { Effect, PolicyDocument, Statement } from './policy-document.js';
import { compilePattern, MatchBudgetExceeded, withMatchBudget, type CompiledPattern, type VariableLookup } from './wildcard.js';

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
      /**
       * `no_allow`: no identity statement allows; `boundary`: allowed, but not by the boundary;
       * `too_complex`: the policies' `?` patterns and the request's values needed more steps than
       * a decision may take (MAX_MATCH_WORK), so nothing is allowed; `unresolved_policy`: a
       * policy the set must hold could not be read (a boundary that does not resolve, a stored text
       * that no longer parses), so nothing is allowed.
       */
      readonly reason: 'no_allow' | 'boundary' | 'too_complex' | 'unresolved_policy';
    };

/**
 * A statement's Action (or NotAction) list, indexed: exact names in a set, wildcard patterns by
 * service, and the few whose service itself has a wildcard. ReadOnlyAccess lists ~3,000 actions;
 * a request looks at a handful of them.
 */
interface ActionMatcher {
  readonly exact: ReadonlySet<string>;
  readonly byService: ReadonlyMap<string, readonly CompiledPattern[]>;
  readonly anyService: readonly CompiledPattern[];
}

function compileActions(patterns: readonly string[]): ActionMatcher {
  const exact = new Set<string>();
  const byService = new Map<string, CompiledPattern[]>();
  const anyService: CompiledPattern[] = [];
  for (const pattern of patterns) {
    const lower = pattern.toLowerCase();
    // Actions ignore case and take no policy variables.
    if (!/[*?]/.test(lower)) exact.add(lower);
    else {
      const compiled = compilePattern(lower, { variables: false, foldCase: true });
      const service = serviceOf(lower);
      if (service === undefined) anyService.push(compiled);
      else byService.set(service, [...(byService.get(service) ?? []), compiled]);
    }
  }
  return { exact, byService, anyService };
}

/** `action` is lower-cased already. */
function actionMatches(m: ActionMatcher, action: string, service: string): boolean {
  if (m.exact.has(action)) return true;
  const own = m.byService.get(service);
  if (own) for (const p of own) if (p.matches(action)) return true;
  for (const p of m.anyService) if (p.matches(action)) return true;
  return false;
}

interface CompiledStatement {
  readonly deciding: DecidingStatement;
  readonly actionNegated: boolean;
  readonly actions: ActionMatcher;
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
  /**
   * A policy that must apply but cannot be read: a permissions boundary that does not resolve, or
   * a stored text that no longer parses (written before a rule that refuses it). Its statements,
   * a Deny among them, are unknown, so a set that holds it allows nothing (fails closed).
   */
  readonly unreadable?: true;
}

/** The stand-in for a policy that must apply but cannot be read: a set that holds it allows nothing. */
export function unreadablePolicy(source: PolicySource): CompiledPolicy {
  return Object.freeze({ source, statements: Object.freeze([]), unreadable: true as const });
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
    actions: compileActions(st.action.patterns),
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
  /** A policy of the set cannot be read (unreadablePolicy): every decision is ImplicitDeny (`unresolved_policy`). */
  readonly failsClosed: boolean;

  constructor(
    readonly identity: readonly CompiledPolicy[],
    readonly boundary?: readonly CompiledPolicy[],
  ) {
    this.failsClosed = identity.some((p) => p.unreadable) || (boundary?.some((p) => p.unreadable) ?? false);
  }

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

function oneString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > MAX_VALUE_CHARS ? v.slice(0, MAX_VALUE_CHARS) : v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** A context value as the evaluator compares it: its strings (several for a multi-valued key), or undefined for a value of another type. */
export function contextValues(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    const s = oneString(value);
    return s === undefined ? undefined : [s];
  }
  const out: string[] = [];
  for (let i = 0; i < value.length && i < MAX_VALUES_PER_KEY; i++) {
    const s = oneString(value[i]);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/**
 * The request's context with lower-cased keys, added to `out` (a key already there is replaced);
 * values that are not strings, numbers or booleans are dropped.
 */
export function prepareContext(context: AuthorizationRequest['context'], out = new Map<string, readonly string[]>()): Map<string, readonly string[]> {
  if (context === null || typeof context !== 'object') return out;
  for (const key of Object.keys(context)) {
    const values = contextValues((context as Record<string, unknown>)[key]);
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

function statementMatches(st: CompiledStatement, action: string, service: string, resource: string, ctx: ContextValues, lookup: VariableLookup): boolean {
  if (actionMatches(st.actions, action, service) === st.actionNegated) return false;
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

interface Prepared {
  action: string;
  service: string;
  resource: string;
  ctx: ContextValues;
  lookup: VariableLookup;
}

function firstMatch(statements: readonly CompiledStatement[], effect: Effect, r: Prepared) {
  for (const st of statements) if (st.deciding.effect === effect && statementMatches(st, r.action, r.service, r.resource, r.ctx, r.lookup)) return st;
  return undefined;
}

/**
 * Evaluate one request. Never throws: a context value of the wrong type is ignored, as a key the
 * request does not carry.
 */
export function evaluate(set: PolicySet, request: AuthorizationRequest): Decision {
  return evaluatePrepared(set, request.action, request.resource, prepareContext(request.context));
}

/**
 * Steps one decision may spend on `?` patterns (a character compared, or a 32-bit word of a scan
 * advanced by a character; wildcard.ts): far beyond any real policy (a decision spends thousands),
 * and tens of milliseconds at most.
 */
export const MAX_MATCH_WORK = 20_000_000;

/**
 * As evaluate, with the context already prepared (prepareContext). A decision that would need more
 * steps than MAX_MATCH_WORK allows nothing: it fails closed, a Deny it could not finish
 * checking included.
 */
export function evaluatePrepared(set: PolicySet, requestAction: string, requestResource: string, ctx: ContextValues): Decision {
  try {
    return withMatchBudget(MAX_MATCH_WORK, () => decide(set, requestAction, requestResource, ctx));
  } catch (err) {
    if (err instanceof MatchBudgetExceeded) return { decision: 'ImplicitDeny', allowed: false, reason: 'too_complex' };
    throw err;
  }
}

function decide(set: PolicySet, requestAction: string, requestResource: string, ctx: ContextValues): Decision {
  // Left out, an unreadable policy's Denies would not apply, and a missing boundary would bound nothing.
  if (set.failsClosed) return { decision: 'ImplicitDeny', allowed: false, reason: 'unresolved_policy' };
  const action = typeof requestAction === 'string' ? requestAction.toLowerCase() : '';
  const resource = typeof requestResource === 'string' ? requestResource : '';
  const colon = action.indexOf(':');
  const service = colon < 0 ? action : action.slice(0, colon);
  const r: Prepared = { action, service, resource, ctx, lookup: lookupIn(ctx) };
  const { identity, boundary } = set.candidates(service);
  const deny = firstMatch(identity, 'Deny', r) ?? firstMatch(boundary, 'Deny', r);
  if (deny) return { decision: 'ExplicitDeny', allowed: false, statement: deny.deciding };
  const allow = firstMatch(identity, 'Allow', r);
  if (!allow) return { decision: 'ImplicitDeny', allowed: false, reason: 'no_allow' };
  if (set.boundary && !firstMatch(boundary, 'Allow', r)) {
    return { decision: 'ImplicitDeny', allowed: false, reason: 'boundary' };
  }
  return { decision: 'Allow', allowed: true, statement: allow.deciding };
}
