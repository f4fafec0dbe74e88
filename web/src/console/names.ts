// Names for the ids the APIs answer with (permission set ARNs, account ids, group ids), looked up
// through the same APIs and remembered for the page's life.

import { aws, type Account, type Group, type PermissionSet, type User } from './api.js';

const cache = new Map<string, Promise<string>>();
const remember = (key: string, lookup: () => Promise<string>) => {
  let found = cache.get(key);
  if (!found) {
    found = lookup().catch(() => key.slice(key.indexOf(':') + 1));
    cache.set(key, found);
  }
  return found;
};

export const permissionSetName = (instanceArn: string, arn: string) =>
  remember(`ps:${arn}`, async () => (await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'DescribePermissionSet', { InstanceArn: instanceArn, PermissionSetArn: arn })).PermissionSet.Name);
export const accountName = (accountId: string) =>
  remember(`acct:${accountId}`, async () => (await aws<{ Account: Account }>('organizations', 'DescribeAccount', { AccountId: accountId })).Account.Name);
export const groupName = (identityStoreId: string, groupId: string) =>
  remember(`group:${groupId}`, async () => (await aws<Group>('identitystore', 'DescribeGroup', { IdentityStoreId: identityStoreId, GroupId: groupId })).DisplayName ?? groupId);
export const userName = (identityStoreId: string, userId: string) =>
  remember(`user:${userId}`, async () => (await aws<User>('identitystore', 'DescribeUser', { IdentityStoreId: identityStoreId, UserId: userId })).UserName);

/** Forget a name that just changed. */
export const forgetName = (id: string) => {
  for (const key of cache.keys()) if (key.endsWith(`:${id}`)) cache.delete(key);
};

export interface Assignment {
  AccountId: string;
  PermissionSetArn: string;
  PrincipalType: 'USER' | 'GROUP';
  PrincipalId: string;
}

/** A principal's assignments with the names of their accounts and permission sets. */
export async function namedAssignments(instanceArn: string, principalType: 'USER' | 'GROUP', principalId: string) {
  const items: Assignment[] = [];
  let NextToken: string | undefined;
  do {
    const r = await aws<{ AccountAssignments: Assignment[]; NextToken?: string }>('ssoAdmin', 'ListAccountAssignmentsForPrincipal', {
      InstanceArn: instanceArn,
      PrincipalType: principalType,
      PrincipalId: principalId,
      MaxResults: 100,
      NextToken,
    });
    items.push(...r.AccountAssignments);
    NextToken = r.NextToken;
  } while (NextToken);
  return Promise.all(items.map(async (a) => ({ ...a, accountName: await accountName(a.AccountId), permissionSetName: await permissionSetName(instanceArn, a.PermissionSetArn) })));
}
