// What a signed-in user may reach through the access portal: the accounts and roles their direct
// and group assignments give them, and the provisioned role and session length of one of them.

import { DomainError } from '../shared/errors.js';
import type { Page } from '../shared/pagination.js';
import type { AccessDeps } from './access-deps.js';
import type { PortalRoleRecord, PrincipalSet } from './access-store.js';
import { pageThrough, type PageRequest } from './paging.js';
import { durationSeconds } from './session-duration.js';

export interface PortalAccount {
  accountId: string;
  accountName: string;
  emailAddress: string;
}

export type PortalRole = Omit<PortalRoleRecord, 'sessionDuration'> & { durationSeconds: number };

/** As AWS answers a role the user does not hold: no hint of whether the account or role exists. */
const noAccess = () => new DomainError('permission_denied', 'access.no_access', 'No access');

export class PortalAccess {
  constructor(private readonly deps: Pick<AccessDeps, 'read' | 'instance' | 'principals' | 'accounts'>) {}

  /** The accounts where the user holds at least one role. */
  async listAccounts(userId: string, page: PageRequest): Promise<Page<PortalAccount>> {
    const principals = await this.principalsOf(userId);
    const ids = await pageThrough(page, ['string'], (slice) => this.deps.read.access.listAccountIdsOfPrincipals(principals, slice), (id) => [id]);
    const accounts = await Promise.all(ids.items.map((id) => this.deps.accounts.describeAccount(id)));
    return { ...ids, items: accounts.map((a) => ({ accountId: a.accountId, accountName: a.name, emailAddress: a.email })) };
  }

  /** The user's roles in the account, named by their permission set, as the CLI's sso_role_name is. */
  async listAccountRoles(userId: string, accountId: string, page: PageRequest): Promise<Page<string>> {
    const principals = await this.principalsOf(userId);
    return pageThrough(page, ['string'], (slice) => this.deps.read.access.listPermissionSetNamesOfPrincipals(principals, accountId, slice), (n) => [n]);
  }

  /**
   * The role the user takes for `roleName` in the account. Read from the database on every call, so
   * a deleted assignment, a left group, or a deleted or disabled user refuses at once.
   */
  async roleFor(userId: string, accountId: string, roleName: string): Promise<PortalRole> {
    const { identityStoreId } = await this.deps.instance.get();
    const found = await this.deps.read.access.findRoleOfUser(identityStoreId, userId, accountId, roleName);
    const seconds = found && durationSeconds(found.sessionDuration);
    if (!found || seconds === undefined) throw noAccess();
    return { permissionSetArn: found.permissionSetArn, roleName: found.roleName, durationSeconds: Math.floor(seconds) };
  }

  /** The user and their groups; nobody at all for a user who no longer exists or is disabled. */
  private async principalsOf(userId: string): Promise<PrincipalSet> {
    const { identityStoreId } = await this.deps.instance.get();
    const [enabled, groupIds] = await Promise.all([
      this.deps.principals.isUserEnabled(identityStoreId, userId),
      this.deps.principals.listGroupIdsForUser(identityStoreId, userId),
    ]);
    if (!enabled) return [];
    return [
      { type: 'USER', ids: [userId] },
      { type: 'GROUP', ids: groupIds },
    ];
  }
}
