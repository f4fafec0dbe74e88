// Who may use the admin console: a directory user granted console access with a named policy,
// AdministratorAccess (every operation) or ReadOnlyAccess (read-only operations only). Grants are
// made from the CLI (`atrium admin grant`), so that the first administrator needs no console.

import { audited, type AuditStore } from '../audit/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, invalidArgument, notFound } from '../shared/errors.js';
import type { ServiceDeps } from '../shared/service-deps.js';

export const CONSOLE_POLICIES = ['AdministratorAccess', 'ReadOnlyAccess'] as const;
export type ConsolePolicy = (typeof CONSOLE_POLICIES)[number];
/** The CloudTrail event source of console grants. */
export const CONSOLE_SOURCE = 'console.atrium.local';

export interface ConsoleGrant {
  userId: string;
  /** The user's name when granted, as stored; the service's answers carry their name now. */
  userName: string;
  policy: ConsolePolicy;
  grantedAt: number;
  grantedBy: string;
}

/** The store port of console grants. */
export interface ConsoleAdminStore {
  findGrant(userId: string): Promise<ConsoleGrant | undefined>;
  /** Insert or replace the user's grant. */
  putGrant(grant: ConsoleGrant): Promise<void>;
  deleteGrant(userId: string): Promise<boolean>;
  listGrants(): Promise<ConsoleGrant[]>;
}

/** How the service finds the user a grant names: the directory, through a narrow port. */
export interface ConsoleUserLookup {
  findUserByName(identityStoreId: string, userName: string): Promise<ConsoleUser | undefined>;
  findUserById(identityStoreId: string, userId: string): Promise<ConsoleUser | undefined>;
}
type ConsoleUser = { userId: string; userName: string; status: string };

export type ConsoleAdminStores = { consoleAdmins: ConsoleAdminStore; audit: AuditStore };

type Deps = ServiceDeps<ConsoleAdminStores> & {
  instance: { get(): Promise<{ identityStoreId: string }> };
  users: ConsoleUserLookup;
};

export const isConsolePolicy = (p: string): p is ConsolePolicy => (CONSOLE_POLICIES as readonly string[]).includes(p);

/**
 * Whether a console grant allows an operation. Until the policy engine (issue 7) lands, this is the
 * whole rule: AdministratorAccess allows everything, ReadOnlyAccess only the operations each
 * operation table marks readOnly. The policy engine replaces this one function.
 */
export function consoleAllows(policy: ConsolePolicy, operation: { readOnly: boolean }): boolean {
  return policy === 'AdministratorAccess' || operation.readOnly;
}

/** The principal audit events name for a console request: the signed-in administrator. */
export const consolePrincipal = (grant: Pick<ConsoleGrant, 'userId' | 'userName'>, sessionId: string): Principal => ({
  type: 'IdentityCenterUser',
  principalId: grant.userId,
  userName: grant.userName,
  arn: `arn:atrium:console:::session/${sessionId}`,
});

const consoleDenied = (message: string) => new DomainError('permission_denied', 'console.access_denied', message);

export class ConsoleAdminService {
  constructor(private readonly deps: Deps) {}

  /**
   * The grant of an enabled user, with their user name now (a grant is the user id's, and outlives
   * a rename), or undefined: a disabled or deleted user administers nothing.
   */
  async grantOf(userId: string): Promise<ConsoleGrant | undefined> {
    const grant = await this.deps.read.consoleAdmins.findGrant(userId);
    if (!grant) return undefined;
    const { identityStoreId } = await this.deps.instance.get();
    const user = await this.deps.users.findUserById(identityStoreId, userId);
    return user?.status === 'ENABLED' ? { ...grant, userName: user.userName } : undefined;
  }

  /** The grant that lets `userId` run an operation, or a permission_denied refusal. */
  async authorize(userId: string, operation: { readOnly: boolean; name: string }): Promise<ConsoleGrant> {
    const grant = await this.grantOf(userId);
    if (!grant) throw consoleDenied('You are not an administrator of this instance.');
    if (!consoleAllows(grant.policy, operation)) {
      throw consoleDenied(`Your console access (${grant.policy}) does not allow ${operation.name}.`);
    }
    return grant;
  }

  /** Every grant, by the user's name now (the stored one when the user is gone), in name order. */
  async listGrants(): Promise<ConsoleGrant[]> {
    const grants = await this.deps.read.consoleAdmins.listGrants();
    const { identityStoreId } = await this.deps.instance.get();
    const named = await Promise.all(grants.map(async (g) => ({ ...g, userName: (await this.deps.users.findUserById(identityStoreId, g.userId))?.userName ?? g.userName })));
    return named.sort((a, b) => (a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0));
  }

  /** Grant (or change) a user's console access. */
  async grant(ctx: RequestContext, userName: string, policy: string): Promise<ConsoleGrant> {
    return audited(
      this.deps,
      { ...ctx, eventSource: CONSOLE_SOURCE },
      { eventName: 'GrantConsoleAccess', requestParameters: { userName, policy }, responseElements: (g: ConsoleGrant) => ({ userId: g.userId, policy: g.policy }) },
      async (s) => {
        if (!isConsolePolicy(policy)) throw invalidArgument('console.invalid_policy', `The policy must be ${CONSOLE_POLICIES.join(' or ')}.`);
        const user = await this.userNamed(userName);
        const grant: ConsoleGrant = {
          userId: user.userId,
          userName: user.userName,
          policy,
          grantedAt: this.deps.clock.now(),
          grantedBy: ctx.principal.userName ?? ctx.principal.principalId,
        };
        await s.consoleAdmins.putGrant(grant);
        return grant;
      },
    );
  }

  /** Take a user's console access away; their next console request is refused. */
  async revoke(ctx: RequestContext, userName: string): Promise<void> {
    await audited(this.deps, { ...ctx, eventSource: CONSOLE_SOURCE }, { eventName: 'RevokeConsoleAccess', requestParameters: { userName } }, async (s) => {
      const user = await this.userNamed(userName);
      if (!(await s.consoleAdmins.deleteGrant(user.userId))) {
        throw notFound('console.grant_not_found', `The user ${userName} has no console access.`, { resourceType: 'CONSOLE_GRANT', resourceId: userName });
      }
    });
  }

  private async userNamed(userName: string) {
    const { identityStoreId } = await this.deps.instance.get();
    const user = await this.deps.users.findUserByName(identityStoreId, userName);
    if (!user) throw notFound('directory.user_not_found', `The user ${userName} does not exist.`, { resourceType: 'USER', resourceId: userName });
    return user;
  }
}
