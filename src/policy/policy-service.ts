// The policy engine applied to Atrium's principals: the effective policies of a permission set,
// simulation ("can U in A do X on R?", "what can U do in A?") and authorization of signed requests.

import type { AccountAssignmentRecord, AttachedPolicy, PermissionSetRecord, PrincipalSet, Slice } from '../access/index.js';
import { DomainError, invalidArgument, notFound } from '../shared/errors.js';
import { contextValues, evaluate, evaluatePrepared, PolicySet, prepareContext, unreadablePolicy, type AuthorizationRequest, type CompiledPolicy, type ContextValue, type Decision } from './evaluate.js';
import { PolicyCache } from './policy-cache.js';

/** What the engine reads from access/ (satisfied by the access store). */
export interface PermissionSetSource {
  findPermissionSet(permissionSetArn: string): Promise<PermissionSetRecord | undefined>;
  listPolicies(permissionSetArn: string, kind: AttachedPolicy['kind'], slice: Slice<[string]>): Promise<AttachedPolicy[]>;
  listAssignmentsOfPrincipals(principals: PrincipalSet, accountId: string | undefined, slice: Slice<[string, string, string, string]>): Promise<AccountAssignmentRecord[]>;
}

/** What the engine reads from directory/ and instance/. */
export interface PrincipalSource {
  identityStoreId(): Promise<string>;
  findUserByName(identityStoreId: string, userName: string): Promise<{ userId: string; userName: string; status: string } | undefined>;
  listGroupIdsForUser(identityStoreId: string, userId: string): Promise<string[]>;
  groupName(identityStoreId: string, groupId: string): Promise<string | undefined>;
}

/** What the engine reads about Atrium's own access keys (satisfied by credentials/). */
export interface AccessKeySource {
  /** The key's purpose (`bootstrap`, `policy:<ManagedPolicyName>` …), or undefined for no such key. */
  purposeOf(accessKeyId: string): Promise<string | undefined>;
}

/** Customer-managed policies of an account (satisfied by CustomerPolicyService). */
export interface CustomerPolicySource {
  /** `policyId` is unique per creation: a policy deleted and made again under the same ARN is another policy. */
  resolve(accountId: string, reference: { path: string; name: string }): Promise<{ policyArn: string; policyId: string; versionId: string; document: string } | undefined>;
}

export interface PolicyDeps {
  permissionSets: PermissionSetSource;
  customerPolicies: CustomerPolicySource;
  principals: PrincipalSource;
  accessKeys: AccessKeySource;
  clock: { now(): number };
  /**
   * What a real session of the user in the permission set's role would carry: its principal id
   * (`AROA…:userName`, once the role is provisioned in the account) and its ABAC session tags.
   * Simulation fills them as issuing credentials does.
   */
  sessionOf?: (user: { userId: string; userName: string }, accountId: string, permissionSetName: string) => Promise<Pick<SessionContext, 'principalId' | 'tags' | 'roleName'>>;
  /** The instance's region: the path of its roles' ARNs (aws:PrincipalArn) names it. */
  instanceRegion?: () => Promise<string | undefined>;
  /** Where an account sits in the organization: aws:PrincipalOrgID and aws:PrincipalOrgPaths. */
  orgPathOf?: (accountId: string) => Promise<{ organizationId: string; path: string } | undefined>;
}

/**
 * The ARN of the role IAM Identity Center provisions for a permission set in an account, as
 * aws:PrincipalArn gives it: under `/aws-reserved/sso.amazonaws.com/`, then the instance's region
 * but for us-east-1 (as AWS names them).
 */
export function identityCenterRoleArn(accountId: string, roleName: string, region: string | undefined): string {
  const regional = region === undefined || region === 'us-east-1' ? '' : `${region}/`;
  return `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/${regional}${roleName}`;
}

export const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';
/** The purpose of an access key that holds one AWS managed policy: `policy:ReadOnlyAccess`. */
export const POLICY_KEY_PURPOSE = 'policy:';

/**
 * The AWS managed policies an Atrium access key holds: the bootstrap key is the administrator;
 * `atrium access-key create --policy P` makes keys that hold P; any other key holds nothing.
 */
export function policiesOfKeyPurpose(purpose: string | undefined): string[] {
  if (purpose === 'bootstrap') return [ADMINISTRATOR_ACCESS];
  if (purpose?.startsWith(POLICY_KEY_PURPOSE)) return [`arn:aws:iam::aws:policy/${purpose.slice(POLICY_KEY_PURPOSE.length)}`];
  return [];
}

const KEY_POLICY_TTL_MS = 2000;

/**
 * A permission set's policies, compiled; `unresolved` names the references that do not resolve
 * (they grant nothing, and a boundary among them allows nothing) and, marked `(unreadable)`, the
 * stored policies whose text no longer parses (the set then allows nothing).
 */
export interface EffectivePolicies {
  readonly set: PolicySet;
  readonly unresolved: readonly string[];
}

export interface EffectivePermissionSet {
  permissionSetArn: string;
  name: string;
  /** How the user holds it: their own assignment and/or their groups'. */
  via: { principalType: 'USER' | 'GROUP'; principalId: string; groupName?: string }[];
  unresolvedPolicies: string[];
}

type ImplicitDenyReason = Extract<Decision, { decision: 'ImplicitDeny' }>['reason'];

export interface SimulationResult {
  decision: Decision['decision'];
  allowed: boolean;
  /** The permission set whose role would be allowed (or, when none is, the one that explicitly denied). */
  permissionSetArn?: string;
  permissionSetName?: string;
  statement?: { policyId: string; sid?: string; index: number; effect: string };
  /** Each permission set the user holds in the account, with its own decision (and, for an implicit deny, why). */
  permissionSets: (EffectivePermissionSet & { decision: Decision['decision']; statement?: SimulationResult['statement']; reason?: ImplicitDenyReason })[];
}

/** The role session's context keys, as IAM fills them for an Identity Center role. */
export interface SessionContext {
  userId: string;
  userName: string;
  accountId: string;
  /** The signer's principal id (`AROA…:userName` for a role session); aws:userid. */
  principalId?: string;
  /** When the session's credentials were issued (epoch ms): aws:TokenIssueTime. */
  issuedAt?: number;
  /** The role's name (`AWSReservedSSO_<set>_<hex>`), from which its ARN is made. */
  roleName?: string;
  /** The role's ARN: aws:PrincipalArn. */
  roleArn?: string;
  /** The account's organization and its path there: aws:PrincipalOrgID, aws:PrincipalOrgPaths. */
  org?: { organizationId: string; path: string };
  tags?: Readonly<Record<string, string>>;
}

const MAX_ATTACHED = 100;
const MAX_ASSIGNMENTS = 1000;
/** How long an authorizing process keeps a permission set's policies: a change applies everywhere within this. */
const SESSION_POLICY_TTL_MS = 1000;

/** A permission set's policies as one process read them at `at`; `settled` once the read is done. */
interface SessionPolicies {
  at: number;
  policies: Promise<EffectivePolicies | undefined>;
  settled?: { value: EffectivePolicies | undefined };
}

/** Reads kept per key for `ttlMs` per process (at most 10,000 keys); a failed read is not kept. */
class RecentReads<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();
  constructor(private readonly ttlMs: number) {}

  get(key: string, now: number, read: () => Promise<V>): Promise<V> {
    let hit = this.entries.get(key);
    if (!hit || now - hit.at >= this.ttlMs) {
      hit = { at: now, value: read() };
      if (this.entries.size >= 10_000) this.entries.clear();
      this.entries.set(key, hit);
      hit.value.catch(() => this.entries.delete(key));
    }
    return hit.value;
  }
}

export class PolicyService {
  private readonly cache = new PolicyCache();
  private readonly sessionPolicies = new Map<string, SessionPolicies>();
  private readonly keyPolicies = new RecentReads<string[]>(KEY_POLICY_TTL_MS);

  constructor(private readonly deps: PolicyDeps) {}

  /**
   * The compiled identity policies and boundary of one version of a permission set, as provisioned
   * in `accountId`: customer-managed references resolve to that account's policies.
   *
   * What cannot be resolved is listed in `unresolved`, and fails closed: an identity policy that
   * does not exist grants nothing (the others still apply), while a boundary that does not resolve,
   * or any stored policy text that no longer parses, makes the set allow nothing. Leaving such a
   * policy out would widen access: no boundary bounds nothing, and an unread policy's Denies do
   * not apply.
   */
  async policiesOf(ps: PermissionSetRecord, accountId?: string): Promise<EffectivePolicies> {
    const key = `${ps.permissionSetArn}#v${ps.version}`;
    const origin = ps.permissionSetArn;
    const unresolved: string[] = [];
    const identity: CompiledPolicy[] = [];
    /** Keep a policy that was found; list it if its text could not be read. */
    const found = (compiled: CompiledPolicy, into: CompiledPolicy[], name: string) => {
      into.push(compiled);
      if (compiled.unreadable) unresolved.push(`${name} (unreadable)`);
    };
    const [managed, customer] = await Promise.all([
      this.deps.permissionSets.listPolicies(ps.permissionSetArn, 'AWS', { limit: MAX_ATTACHED }),
      this.deps.permissionSets.listPolicies(ps.permissionSetArn, 'CUSTOMER', { limit: MAX_ATTACHED }),
    ]);
    for (const m of managed) {
      const compiled = await this.cache.managed(m.ref, origin);
      if (compiled) found(compiled, identity, m.ref);
      else unresolved.push(m.ref);
    }
    for (const c of customer) {
      const compiled = accountId === undefined ? undefined : await this.customerManaged(accountId, { path: c.path, name: c.name }, origin);
      if (compiled) found(compiled, identity, `customer-managed:${c.ref}`);
      else unresolved.push(`customer-managed:${c.ref}`);
    }
    if (ps.inlinePolicy) found(this.cache.compile(`${key}#inline`, ps.inlinePolicy, { policyId: 'inline', origin }), identity, 'inline');
    let boundary: CompiledPolicy[] | undefined;
    const b = ps.permissionsBoundary;
    if (b) {
      boundary = [];
      const boundaryOrigin = `${origin} (boundary)`;
      const name = 'managedPolicyArn' in b ? `boundary:${b.managedPolicyArn}` : `boundary:customer-managed:${b.customerManagedPolicy.path}${b.customerManagedPolicy.name}`;
      const compiled =
        'managedPolicyArn' in b
          ? await this.cache.managed(b.managedPolicyArn, boundaryOrigin)
          : accountId === undefined
            ? undefined
            : await this.customerManaged(accountId, b.customerManagedPolicy, boundaryOrigin);
      if (compiled) found(compiled, boundary, name);
      else {
        // A boundary that does not resolve allows nothing: failing closed is the only safe reading.
        boundary.push(unreadablePolicy({ policyId: name, origin: boundaryOrigin }));
        unresolved.push(name);
      }
    }
    return { set: new PolicySet(identity, boundary), unresolved };
  }

  /** A customer-managed policy's default version in the account, compiled once per version; undefined where it does not exist. */
  private async customerManaged(accountId: string, ref: { path: string; name: string }, origin: string): Promise<CompiledPolicy | undefined> {
    const found = await this.deps.customerPolicies.resolve(accountId, ref);
    return found && this.cache.compile(`${found.policyId}#${found.versionId}#${origin}`, found.document, { policyId: found.policyArn, origin });
  }

  /** "What can U do in A?": the permission sets the user holds there, and the assignments and groups they come through. */
  async effectiveAccess(userName: string, accountId: string): Promise<EffectivePermissionSet[]> {
    checkAccountId(accountId);
    const storeId = await this.deps.principals.identityStoreId();
    const user = await this.deps.principals.findUserByName(storeId, userName);
    if (!user) throw notFound('policy.user_not_found', `User ${userName} does not exist.`, { resourceType: 'USER', resourceId: userName });
    if (user.status !== 'ENABLED') return [];
    const groupIds = await this.deps.principals.listGroupIdsForUser(storeId, user.userId);
    const principals: PrincipalSet = [
      { type: 'USER', ids: [user.userId] },
      { type: 'GROUP', ids: groupIds },
    ];
    const assignments = await this.deps.permissionSets.listAssignmentsOfPrincipals(principals, accountId, { limit: MAX_ASSIGNMENTS });
    const byArn = new Map<string, AccountAssignmentRecord[]>();
    for (const a of assignments) byArn.set(a.permissionSetArn, [...(byArn.get(a.permissionSetArn) ?? []), a]);
    const out: EffectivePermissionSet[] = [];
    for (const [arn, held] of byArn) {
      const ps = await this.deps.permissionSets.findPermissionSet(arn);
      if (!ps) continue;
      const via = await Promise.all(
        held.map(async (a) => {
          if (a.principalType === 'USER') return { principalType: 'USER' as const, principalId: a.principalId };
          const groupName = await this.deps.principals.groupName(storeId, a.principalId);
          return { principalType: 'GROUP' as const, principalId: a.principalId, ...(groupName ? { groupName } : {}) };
        }),
      );
      out.push({ permissionSetArn: arn, name: ps.name, via, unresolvedPolicies: [...(await this.policiesOf(ps, accountId)).unresolved] });
    }
    return out;
  }

  /** "Can U, in A, do X on R?": each permission set the user holds there is a role they may take. */
  async simulate(input: { userName: string; accountId: string; action: string; resource: string; context?: Record<string, ContextValue> }): Promise<SimulationResult> {
    const storeId = await this.deps.principals.identityStoreId();
    const held = await this.effectiveAccess(input.userName, input.accountId);
    const user = await this.deps.principals.findUserByName(storeId, input.userName);
    const results: SimulationResult['permissionSets'] = [];
    for (const eps of held) {
      const ps = await this.deps.permissionSets.findPermissionSet(eps.permissionSetArn);
      if (!ps) continue;
      const { set } = await this.policiesOf(ps, input.accountId);
      // The session's keys as a real session in this role has them; the simulated request's own
      // context keys may stand in for them.
      const who = { userId: user?.userId ?? '', userName: input.userName };
      const session = user ? await this.deps.sessionOf?.(who, input.accountId, eps.name) : undefined;
      const roleArn = session?.roleName === undefined ? undefined : await this.roleArnOf(input.accountId, session.roleName);
      const org = await this.orgOf(input.accountId);
      const context = prepareContext(
        input.context,
        sessionContext({ ...who, accountId: input.accountId, ...session, ...(roleArn ? { roleArn } : {}), ...(org ? { org } : {}) }, this.deps.clock.now()),
      );
      const d = evaluatePrepared(set, input.action, input.resource, context);
      results.push({ ...eps, decision: d.decision, ...('statement' in d ? { statement: d.statement } : { reason: d.reason }) });
    }
    const pick = results.find((r) => r.decision === 'Allow') ?? results.find((r) => r.decision === 'ExplicitDeny');
    return {
      decision: pick?.decision ?? 'ImplicitDeny',
      allowed: pick?.decision === 'Allow',
      ...(pick ? { permissionSetArn: pick.permissionSetArn, permissionSetName: pick.name } : {}),
      ...(pick?.statement ? { statement: pick.statement } : {}),
      permissionSets: results,
    };
  }

  /**
   * The in-process check for a verified role session: may it do `action` on `resource`? The
   * permission set's policies are read at most once a second per process and compiled once per version.
   */
  async authorizeSession(session: SessionContext & { permissionSetArn: string }, request: AuthorizationRequest): Promise<Decision & { permissionSetArn: string }> {
    const now = this.deps.clock.now();
    const cacheKey = `${session.permissionSetArn}#${session.accountId}`;
    let hit = this.sessionPolicies.get(cacheKey);
    if (!hit || now - hit.at >= SESSION_POLICY_TTL_MS) {
      const policies = this.deps.permissionSets.findPermissionSet(session.permissionSetArn).then((ps) => (ps ? this.policiesOf(ps, session.accountId) : undefined));
      const entry: SessionPolicies = { at: now, policies };
      if (this.sessionPolicies.size >= 10_000) this.sessionPolicies.clear();
      this.sessionPolicies.set(cacheKey, entry);
      policies.then(
        (value) => (entry.settled = { value }),
        () => this.sessionPolicies.delete(cacheKey),
      );
      hit = entry;
    }
    // Read within the last second and at hand: no need to wait a turn for it.
    const effective = hit.settled ? hit.settled.value : await hit.policies;
    if (!effective) return { decision: 'ImplicitDeny', allowed: false, reason: 'no_allow', permissionSetArn: session.permissionSetArn };
    // The caller's keys, less those of the principal and the time, which come from the session alone.
    const context = prepareContext(request.context);
    for (const key of context.keys()) if (isPrincipalOrTimeKey(key)) context.delete(key);
    const roleArn = session.roleName === undefined ? undefined : await this.roleArnOf(session.accountId, session.roleName);
    const org = await this.orgOf(session.accountId, now);
    sessionContext({ ...session, ...(roleArn ? { roleArn } : {}), ...(org ? { org } : {}) }, now, context);
    return { ...evaluatePrepared(effective.set, request.action, request.resource, context), permissionSetArn: session.permissionSetArn };
  }

  private region?: Promise<string | undefined>;
  private readonly orgPaths = new RecentReads<SessionContext['org']>(SESSION_POLICY_TTL_MS);

  /** Where an account sits in the organization, read at most once a second per process (an account may move). */
  private orgOf(accountId: string, now = this.deps.clock.now()): Promise<SessionContext['org']> {
    const lookup = this.deps.orgPathOf;
    return lookup ? this.orgPaths.get(accountId, now, () => lookup(accountId)) : Promise.resolve(undefined);
  }

  /** A provisioned role's ARN, with the instance's region read once per process. */
  private async roleArnOf(accountId: string, roleName: string): Promise<string> {
    this.region ??= this.deps.instanceRegion?.().catch(() => undefined) ?? Promise.resolve(undefined);
    return identityCenterRoleArn(accountId, roleName, await this.region);
  }

  /** The managed policies an access key holds, read at most every 2 s per process (as the key itself is). */
  async policiesOfAccessKey(accessKeyId: string): Promise<string[]> {
    return this.keyPolicies.get(accessKeyId, this.deps.clock.now(), () => this.deps.accessKeys.purposeOf(accessKeyId).then(policiesOfKeyPurpose));
  }


  /** The decision for a request signed with an Atrium access key, by the policies the key holds. */
  async authorizeAccessKey(principal: { accessKeyId?: string; principalId: string; userName?: string }, request: AuthorizationRequest): Promise<Decision & { policyArns: string[] }> {
    const arns = principal.accessKeyId ? await this.policiesOfAccessKey(principal.accessKeyId) : [];
    const time = isoTime(this.deps.clock.now());
    const principalKeys = { 'aws:username': principal.userName ?? '', 'aws:userid': principal.principalId, 'aws:PrincipalType': 'User', 'aws:CurrentTime': time.iso, 'aws:EpochTime': time.epoch };
    const { context: _ignored, ...bare } = request;
    return { ...(await this.authorizeWithManaged(arns, bare, trustedContext(request.context, principalKeys))), policyArns: arns };
  }

  /**
   * Atrium's own admin APIs: refuse, as IAM words it, an operation the signer's key does not allow.
   * `action` is `identitystore:CreateUser`, `sso:ListPermissionSets` …; the resource is `*`.
   */
  async requireAllowed(principal: { accessKeyId?: string; principalId: string; arn?: string; userName?: string }, action: string): Promise<void> {
    const d = await this.authorizeAccessKey(principal, { action, resource: '*' });
    if (d.allowed) return;
    const why = d.decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
    throw new DomainError('permission_denied', 'policy.access_denied', `User: ${principal.arn ?? principal.principalId} is not authorized to perform: ${action} on resource: * ${why}`);
  }

  /** The in-process check against named AWS managed policies (admin access keys hold one). */
  async authorizeWithManaged(policyArns: readonly string[], request: AuthorizationRequest, context: Record<string, ContextValue> = {}): Promise<Decision> {
    const compiled = await Promise.all(policyArns.map((arn) => this.cache.managed(arn)));
    const set = new PolicySet(compiled.filter((p): p is CompiledPolicy => p !== undefined));
    return evaluate(set, { ...request, context: { 'aws:CurrentTime': new Date(this.deps.clock.now()).toISOString(), ...context, ...request.context } });
  }
}

function checkAccountId(accountId: string): void {
  if (!/^\d{12}$/.test(accountId)) throw invalidArgument('policy.invalid_account_id', 'The account id must be 12 digits.');
}

/**
 * The caller's context keys, without any that describe the principal or the time: those come from
 * the verified session alone, so a gateway cannot claim another user's tags.
 */
function trustedContext(given: AuthorizationRequest['context'], principalKeys: Record<string, ContextValue>): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined || isPrincipalOrTimeKey(key.toLowerCase())) continue;
    out[key] = value;
  }
  return { ...out, ...principalKeys };
}

/**
 * Keys (lower-cased) that describe the session itself rather than the request: the time and the
 * token's issue time come from the verified session alone, and an Identity Center role session has
 * no MFA, source-identity or federation keys of its own to give (AWS sets none for it), so a caller
 * may not give them either.
 */
const SESSION_KEYS = new Set(['aws:username', 'aws:userid', 'aws:currenttime', 'aws:epochtime', 'aws:multifactorauthpresent', 'aws:multifactorauthage', 'aws:tokenissuetime', 'aws:sourceidentity', 'aws:federatedprovider']);

/** A context key (lower-cased) that describes the principal, the session or the time: the caller may not give it. */
const isPrincipalOrTimeKey = (k: string) => k.startsWith('aws:principal') || SESSION_KEYS.has(k);

const ASSUMED_ROLE: readonly string[] = Object.freeze(['AssumedRole']);
const NOT_AN_AWS_SERVICE: readonly string[] = Object.freeze(['false']);

/** The last second isoTime formatted: its ISO 8601 form up to the milliseconds' dot, and its epoch seconds. */
let formatted = { second: NaN, prefix: '', epoch: '' };

/**
 * `now` (epoch ms) as aws:CurrentTime and aws:EpochTime give it: `new Date(now).toISOString()` and
 * whole seconds. A decision asks for both; a second's own part is formatted once.
 */
export function isoTime(now: number): { iso: string; epoch: string } {
  if (!Number.isInteger(now)) return { iso: new Date(now).toISOString(), epoch: String(Math.floor(now / 1000)) };
  const second = Math.floor(now / 1000);
  if (second !== formatted.second) {
    const iso = new Date(second * 1000).toISOString();
    formatted = { second, prefix: iso.slice(0, -4), epoch: String(second) };
  }
  const ms = now - second * 1000;
  return { iso: `${formatted.prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`, epoch: formatted.epoch };
}

/**
 * The global condition keys of a role session (who, where, when, and the session's principal
 * tags), added to `into` as prepareContext gives keys: lower-cased, each with its values.
 */
export function sessionContext(s: SessionContext, now: number, into = new Map<string, readonly string[]>()): Map<string, readonly string[]> {
  into.set('aws:username', [s.userName]);
  into.set('aws:userid', [s.principalId ?? s.userId]);
  into.set('aws:principalaccount', [s.accountId]);
  into.set('aws:principaltype', ASSUMED_ROLE);
  const time = isoTime(now);
  into.set('aws:currenttime', [time.iso]);
  into.set('aws:epochtime', [time.epoch]);
  // Present for every request signed with temporary credentials: the "revoke older sessions" Deny
  // (DateLessThan aws:TokenIssueTime) reads it.
  if (s.issuedAt !== undefined) into.set('aws:tokenissuetime', [new Date(s.issuedAt).toISOString()]);
  // Always present on AWS: the role's ARN (not the session's), and that this is no AWS service.
  if (s.roleArn !== undefined) into.set('aws:principalarn', [s.roleArn]);
  if (s.org) {
    into.set('aws:principalorgid', [s.org.organizationId]);
    into.set('aws:principalorgpaths', [s.org.path]);
  }
  into.set('aws:principalisawsservice', NOT_AN_AWS_SERVICE);
  if (s.tags) {
    const tagKeys = Object.keys(s.tags);
    for (const k of tagKeys) {
      const values = contextValues(s.tags[k]);
      if (values) into.set(`aws:principaltag/${k.toLowerCase()}`, values);
    }
    if (tagKeys.length) into.set('aws:principaltagkeys', contextValues(tagKeys)!);
  }
  return into;
}

/**
 * The IAM action an Atrium admin route (`/api/admin/…`) stands for, in the `sso` namespace:
 * `sso:GetAtriumSessions`, `sso:DeleteAtriumScimTokens`, `sso:PutAtriumIdentitySource` … Reads
 * (GET, and the read-only POSTs `readOnly` names) are `Get…`, which ReadOnlyAccess allows.
 */
export function adminActionOf(method: string, routePattern: string, readOnly = false): string {
  const area = routePattern
    .replace(/^\/api\/admin\//, '')
    .split('/')
    .filter((part) => part && !part.startsWith(':'))
    .flatMap((part) => part.split('-'))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  const verb = method === 'GET' || method === 'HEAD' || readOnly ? 'Get' : method === 'DELETE' ? 'Delete' : method === 'PUT' ? 'Put' : 'Create';
  return `sso:${verb}Atrium${area}`;
}
