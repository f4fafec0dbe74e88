// Permission sets: the list, and the way to "Create permission set".

import Button from '@cloudscape-design/components/button';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { allPages, aws, when, type PermissionSet } from '../api.js';
import { Failed, useLoad } from '../parts.js';
import { followLink, useConsole } from '../shell.js';

export const permissionSetPath = (arn: string) => `/permission-sets/${arn.split('/').slice(-2).join('/')}`;

export default function PermissionSets() {
  const { instance, canWrite, navigate } = useConsole();
  const [sets] = useLoad(async () => {
    const arns = await allPages(async (NextToken) => {
      const r = await aws<{ PermissionSets: string[]; NextToken?: string }>('ssoAdmin', 'ListPermissionSets', { InstanceArn: instance.InstanceArn, MaxResults: 100, NextToken });
      return { items: r.PermissionSets, nextToken: r.NextToken };
    });
    const described = await Promise.all(arns.map(async (arn) => (await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'DescribePermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: arn })).PermissionSet));
    return described.sort((a, b) => a.Name.localeCompare(b.Name));
  });
  return (
    <SpaceBetween size="l">
      {sets.state === 'failed' && <Failed message={sets.message} />}
      <Table<PermissionSet>
        variant="full-page"
        loading={sets.state === 'loading'}
        loadingText="Loading permission sets"
        items={sets.state === 'ready' ? sets.value : []}
        trackBy="PermissionSetArn"
        header={
          <Header
            variant="awsui-h1-sticky"
            counter={sets.state === 'ready' ? `(${sets.value.length})` : undefined}
            actions={canWrite && <Button variant="primary" onClick={() => navigate('/permission-sets/create')}>Create permission set</Button>}
          >
            Permission sets
          </Header>
        }
        columnDefinitions={[
          {
            id: 'name',
            header: 'Name',
            cell: (ps) => (
              <Link href={`/console${permissionSetPath(ps.PermissionSetArn)}`} onFollow={followLink(navigate, permissionSetPath(ps.PermissionSetArn))}>
                {ps.Name}
              </Link>
            ),
          },
          { id: 'description', header: 'Description', cell: (ps) => ps.Description ?? '-' },
          { id: 'duration', header: 'Session duration', cell: (ps) => ps.SessionDuration ?? '-' },
          { id: 'created', header: 'Created', cell: (ps) => when(ps.CreatedDate) },
        ]}
        empty="No permission sets yet."
      />
    </SpaceBetween>
  );
}
