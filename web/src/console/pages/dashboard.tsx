// Dashboard: the instance, its region and start URL, the identity source, and how many users,
// groups, accounts and permission sets it holds.

import Box from '@cloudscape-design/components/box';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import { admin, allPages, aws, type Instance } from '../api.js';
import { Failed, useLoad } from '../parts.js';
import { followLink, useConsole } from '../shell.js';

/** Counted by paging the same list APIs as every other surface; past this, "N+" is shown. */
const COUNT_LIMIT = 5000;

function Value({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Box variant="awsui-key-label">{label}</Box>
      <div>{children}</div>
    </div>
  );
}

export default function Dashboard() {
  const { instance, navigate } = useConsole();
  const [counts] = useLoad(async () => {
    const count = async (list: (token?: string) => Promise<{ items: unknown[]; nextToken?: string }>) => {
      const n = (await allPages(list, COUNT_LIMIT)).length;
      return n >= COUNT_LIMIT ? `${COUNT_LIMIT}+` : String(n);
    };
    const [overview, groups, accounts, permissionSets] = await Promise.all([
      admin<Instance>('GET', '/overview'),
      count(async (NextToken) => {
        const r = await aws<{ Groups: unknown[]; NextToken?: string }>('identitystore', 'ListGroups', { IdentityStoreId: instance.IdentityStoreId, MaxResults: 100, NextToken });
        return { items: r.Groups, nextToken: r.NextToken };
      }),
      count(async (NextToken) => {
        const r = await aws<{ Accounts: unknown[]; NextToken?: string }>('organizations', 'ListAccounts', { MaxResults: 20, NextToken });
        return { items: r.Accounts, nextToken: r.NextToken };
      }),
      count(async (NextToken) => {
        const r = await aws<{ PermissionSets: unknown[]; NextToken?: string }>('ssoAdmin', 'ListPermissionSets', { InstanceArn: instance.InstanceArn, MaxResults: 100, NextToken });
        return { items: r.PermissionSets, nextToken: r.NextToken };
      }),
    ]);
    return { users: String(overview.UserCount), groups, accounts, permissionSets };
  });
  const count = (key: 'users' | 'groups' | 'accounts' | 'permissionSets') => (counts.state === 'ready' ? counts.value[key] : counts.state === 'loading' ? <Spinner /> : '-');
  return (
    <ContentLayout header={<Header variant="h1">Dashboard</Header>}>
      <SpaceBetween size="l">
        <Container header={<Header variant="h2">Settings summary</Header>}>
          <ColumnLayout columns={2} variant="text-grid">
            <Value label="Instance ARN">{instance.InstanceArn}</Value>
            <Value label="Region">{instance.Region}</Value>
            <Value label="AWS access portal URL">
              <Link href={instance.StartUrl} external>
                {instance.StartUrl}
              </Link>
            </Value>
            <Value label="Identity source">
              <Link href="/console/settings" onFollow={followLink(navigate, '/settings')}>
                {instance.IdentitySource === 'INTERNAL' ? 'Identity Center directory' : 'External identity provider'}
              </Link>
            </Value>
            <Value label="Identity store ID">{instance.IdentityStoreId}</Value>
          </ColumnLayout>
        </Container>
        {counts.state === 'failed' && <Failed message={counts.message} />}
        <Container header={<Header variant="h2">At a glance</Header>}>
          <ColumnLayout columns={4} variant="text-grid">
            <Value label="Users">
              <Link href="/console/users" fontSize="display-l" onFollow={followLink(navigate, '/users')}>
                {count('users')}
              </Link>
            </Value>
            <Value label="Groups">
              <Link href="/console/groups" fontSize="display-l" onFollow={followLink(navigate, '/groups')}>
                {count('groups')}
              </Link>
            </Value>
            <Value label="AWS accounts">
              <Link href="/console/accounts" fontSize="display-l" onFollow={followLink(navigate, '/accounts')}>
                {count('accounts')}
              </Link>
            </Value>
            <Value label="Permission sets">
              <Link href="/console/permission-sets" fontSize="display-l" onFollow={followLink(navigate, '/permission-sets')}>
                {count('permissionSets')}
              </Link>
            </Value>
          </ColumnLayout>
        </Container>
      </SpaceBetween>
    </ContentLayout>
  );
}
