// "Assign users or groups" to the accounts selected on the AWS accounts page: pick principals,
// then permission sets, review, submit; each assignment's provisioning status shows as it completes.

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Tabs from '@cloudscape-design/components/tabs';
import Wizard from '@cloudscape-design/components/wizard';
import { useState } from 'react';
import { allPages, aws, messageOf, type Group, type PermissionSet, type User } from '../api.js';
import { accountName } from '../names.js';
import { Failed, useLoad } from '../parts.js';
import { useConsole } from '../shell.js';

interface Principal {
  type: 'USER' | 'GROUP';
  id: string;
  name: string;
}
interface Row {
  key: string;
  accountId: string;
  account: string;
  principal: Principal;
  permissionSet: PermissionSet;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  reason?: string;
}

const STATUS = { IN_PROGRESS: 'in-progress', SUCCEEDED: 'success', FAILED: 'error' } as const;

export default function AssignWizard() {
  const { instance, navigate } = useConsole();
  const accountIds = (new URLSearchParams(window.location.search).get('accounts') ?? '').split(',').filter((a) => /^\d{12}$/.test(a));
  const [data] = useLoad(async () => {
    const [users, groups, permissionSets, accounts] = await Promise.all([
      allPages(async (NextToken) => {
        const r = await aws<{ Users: User[]; NextToken?: string }>('identitystore', 'ListUsers', { IdentityStoreId: instance.IdentityStoreId, MaxResults: 100, NextToken });
        return { items: r.Users, nextToken: r.NextToken };
      }, 1000),
      allPages(async (NextToken) => {
        const r = await aws<{ Groups: Group[]; NextToken?: string }>('identitystore', 'ListGroups', { IdentityStoreId: instance.IdentityStoreId, MaxResults: 100, NextToken });
        return { items: r.Groups, nextToken: r.NextToken };
      }, 1000),
      allPages(async (NextToken) => {
        const r = await aws<{ PermissionSets: string[]; NextToken?: string }>('ssoAdmin', 'ListPermissionSets', { InstanceArn: instance.InstanceArn, MaxResults: 100, NextToken });
        return { items: r.PermissionSets, nextToken: r.NextToken };
      }),
      Promise.all(accountIds.map(async (id) => ({ id, name: await accountName(id) }))),
    ]);
    const described = await Promise.all(
      permissionSets.map(async (arn) => (await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'DescribePermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: arn })).PermissionSet),
    );
    return {
      users: users.map((u): Principal => ({ type: 'USER', id: u.UserId, name: u.UserName })),
      groups: groups.map((g): Principal => ({ type: 'GROUP', id: g.GroupId, name: g.DisplayName ?? g.GroupId })),
      permissionSets: described.sort((a, b) => a.Name.localeCompare(b.Name)),
      accounts,
    };
  });
  const [step, setStep] = useState(0);
  const [users, setUsers] = useState<Principal[]>([]);
  const [groups, setGroups] = useState<Principal[]>([]);
  const [sets, setSets] = useState<PermissionSet[]>([]);
  const [rows, setRows] = useState<Row[]>();
  const [stepError, setStepError] = useState<string>();

  if (data.state === 'failed') return <Failed message={data.message} />;
  if (accountIds.length === 0) return <Alert type="warning">Select one or more accounts on the AWS accounts page first.</Alert>;
  const loaded = data.state === 'ready' ? data.value : undefined;
  const principals = [...groups, ...users];
  const accounts = loaded?.accounts ?? accountIds.map((id) => ({ id, name: id }));

  const submit = async () => {
    const planned: Row[] = accounts.flatMap((a) =>
      principals.flatMap((p) => sets.map((ps): Row => ({ key: `${a.id}/${p.type}/${p.id}/${ps.PermissionSetArn}`, accountId: a.id, account: a.name, principal: p, permissionSet: ps, status: 'IN_PROGRESS' }))),
    );
    setRows(planned);
    const update = (key: string, change: Partial<Row>) => setRows((current) => current?.map((r) => (r.key === key ? { ...r, ...change } : r)));
    await Promise.all(
      planned.map(async (row) => {
        try {
          const { AccountAssignmentCreationStatus: created } = await aws<{ AccountAssignmentCreationStatus: { RequestId: string; Status: Row['status']; FailureReason?: string } }>('ssoAdmin', 'CreateAccountAssignment', {
            InstanceArn: instance.InstanceArn,
            TargetId: row.accountId,
            TargetType: 'AWS_ACCOUNT',
            PermissionSetArn: row.permissionSet.PermissionSetArn,
            PrincipalType: row.principal.type,
            PrincipalId: row.principal.id,
          });
          let status = created;
          while (status.Status === 'IN_PROGRESS') {
            await new Promise((r) => setTimeout(r, 300));
            ({ AccountAssignmentCreationStatus: status } = await aws<{ AccountAssignmentCreationStatus: typeof created }>('ssoAdmin', 'DescribeAccountAssignmentCreationStatus', {
              InstanceArn: instance.InstanceArn,
              AccountAssignmentCreationRequestId: created.RequestId,
            }));
          }
          update(row.key, { status: status.Status, ...(status.FailureReason ? { reason: status.FailureReason } : {}) });
        } catch (err) {
          update(row.key, { status: 'FAILED', reason: messageOf(err) });
        }
      }),
    );
  };

  if (rows) {
    const finished = rows.every((r) => r.status !== 'IN_PROGRESS');
    return (
      <Table
        variant="full-page"
        header={
          <Header variant="h1" description="Each assignment is provisioned to its account; its status updates as it completes." actions={finished && <Button onClick={() => navigate('/accounts')}>Back to AWS accounts</Button>}>
            Assignment status
          </Header>
        }
        items={rows}
        columnDefinitions={[
          { id: 'account', header: 'AWS account', cell: (r) => `${r.account} (${r.accountId})` },
          { id: 'principal', header: 'User or group', cell: (r) => `${r.principal.name} (${r.principal.type === 'USER' ? 'user' : 'group'})` },
          { id: 'ps', header: 'Permission set', cell: (r) => r.permissionSet.Name },
          { id: 'status', header: 'Status', cell: (r) => <StatusIndicator type={STATUS[r.status]}>{r.status === 'FAILED' ? `Failed: ${r.reason ?? ''}` : r.status === 'SUCCEEDED' ? 'Succeeded' : 'In progress'}</StatusIndicator> },
        ]}
      />
    );
  }

  const principalTable = (items: Principal[], selected: Principal[], setSelected: (p: Principal[]) => void, noun: string) => (
    <Table
      items={items}
      loading={!loaded}
      loadingText={`Loading ${noun}s`}
      trackBy="id"
      selectionType="multi"
      selectedItems={selected}
      onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
      ariaLabels={{ selectionGroupLabel: `${noun}s to assign`, itemSelectionLabel: (_s, p) => `Select ${p.name}`, allItemsSelectionLabel: () => `Select every ${noun}` }}
      columnDefinitions={[{ id: 'name', header: noun === 'user' ? 'Username' : 'Group name', cell: (p) => p.name }]}
      empty={`No ${noun}s.`}
    />
  );

  return (
    <Wizard
      activeStepIndex={step}
      onNavigate={({ detail }) => {
        if (detail.requestedStepIndex > step && step === 0 && principals.length === 0) return setStepError('Select at least one user or group.');
        if (detail.requestedStepIndex > step && step === 1 && sets.length === 0) return setStepError('Select at least one permission set.');
        setStepError(undefined);
        setStep(detail.requestedStepIndex);
      }}
      onCancel={() => navigate('/accounts')}
      onSubmit={() => void submit()}
      i18nStrings={{
        stepNumberLabel: (n) => `Step ${n}`,
        collapsedStepsLabel: (n, total) => `Step ${n} of ${total}`,
        navigationAriaLabel: 'Steps',
        cancelButton: 'Cancel',
        previousButton: 'Previous',
        nextButton: 'Next',
        submitButton: 'Submit',
      }}
      steps={[
        {
          title: 'Select users and groups',
          description: `Assign access to ${accounts.map((a) => a.name).join(', ')}.`,
          errorText: stepError,
          content: (
            <Tabs
              tabs={[
                { id: 'groups', label: `Groups (${groups.length} selected)`, content: principalTable(loaded?.groups ?? [], groups, setGroups, 'group') },
                { id: 'users', label: `Users (${users.length} selected)`, content: principalTable(loaded?.users ?? [], users, setUsers, 'user') },
              ]}
            />
          ),
        },
        {
          title: 'Select permission sets',
          errorText: stepError,
          content: (
            <Table
              items={loaded?.permissionSets ?? []}
              loading={!loaded}
              loadingText="Loading permission sets"
              trackBy="PermissionSetArn"
              selectionType="multi"
              selectedItems={sets}
              onSelectionChange={({ detail }) => setSets(detail.selectedItems)}
              ariaLabels={{ selectionGroupLabel: 'Permission sets to assign', itemSelectionLabel: (_s, ps) => `Select ${ps.Name}`, allItemsSelectionLabel: () => 'Select every permission set' }}
              columnDefinitions={[
                { id: 'name', header: 'Permission set', cell: (ps) => ps.Name },
                { id: 'description', header: 'Description', cell: (ps) => ps.Description ?? '-' },
                { id: 'duration', header: 'Session duration', cell: (ps) => ps.SessionDuration ?? '-' },
              ]}
              empty="No permission sets: create one first."
            />
          ),
        },
        {
          title: 'Review and submit',
          content: (
            <SpaceBetween size="l">
              <Container header={<Header variant="h2">AWS accounts</Header>}>{accounts.map((a) => `${a.name} (${a.id})`).join(', ')}</Container>
              <Container header={<Header variant="h2">Users and groups</Header>}>{principals.map((p) => `${p.name} (${p.type === 'USER' ? 'user' : 'group'})`).join(', ')}</Container>
              <Container header={<Header variant="h2">Permission sets</Header>}>{sets.map((s) => s.Name).join(', ')}</Container>
            </SpaceBetween>
          ),
        },
      ]}
    />
  );
}
