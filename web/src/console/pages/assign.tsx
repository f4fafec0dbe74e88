// "Assign users or groups" to the accounts selected on the AWS accounts page: pick principals,
// then permission sets (each list paged and found by exact name on the server; picks are kept
// across pages), review, submit; each assignment's provisioning status shows as it completes.

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Tabs from '@cloudscape-design/components/tabs';
import Wizard from '@cloudscape-design/components/wizard';
import { useRef, useState } from 'react';
import { aws, messageOf, type Group, type PermissionSet, type User } from '../api.js';
import { accountName } from '../names.js';
import { directoryPage, NameFilter, useServerPages, type Page, type PageMemory } from '../paging.js';
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
  const [data] = useLoad(() => Promise.all(accountIds.map(async (id) => ({ id, name: await accountName(id) }))));
  const [step, setStep] = useState(0);
  const [users, setUsers] = useState<Principal[]>([]);
  const [groups, setGroups] = useState<Principal[]>([]);
  const [sets, setSets] = useState<PermissionSet[]>([]);
  // What each list showed (tab, search, page), kept while another step is shown: Previous comes back to it.
  const [tab, setTab] = useState('groups');
  const [searches, setSearches] = useState<Record<Principal['type'], string>>({ USER: '', GROUP: '' });
  const memory = useRef<Record<Principal['type'] | 'SETS', PageMemory>>({ USER: {}, GROUP: {}, SETS: {} }).current;
  const [rows, setRows] = useState<Row[]>();
  const [stepError, setStepError] = useState<string>();

  if (data.state === 'failed') return <Failed message={data.message} />;
  if (accountIds.length === 0) return <Alert type="warning">Select one or more accounts on the AWS accounts page first.</Alert>;
  const principals = [...groups, ...users];
  const accounts = data.state === 'ready' ? data.value : accountIds.map((id) => ({ id, name: id }));

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
              activeTabId={tab}
              onChange={({ detail }) => setTab(detail.activeTabId)}
              tabs={[
                { id: 'groups', label: `Groups (${groups.length} selected)`, content: <PrincipalPicker type="GROUP" selected={groups} setSelected={setGroups} search={searches.GROUP} setSearch={(s) => setSearches((all) => ({ ...all, GROUP: s }))} memory={memory.GROUP} /> },
                { id: 'users', label: `Users (${users.length} selected)`, content: <PrincipalPicker type="USER" selected={users} setSelected={setUsers} search={searches.USER} setSearch={(s) => setSearches((all) => ({ ...all, USER: s }))} memory={memory.USER} /> },
              ]}
            />
          ),
        },
        {
          title: 'Select permission sets',
          errorText: stepError,
          content: (
            <PermissionSetPicker selected={sets} setSelected={setSets} memory={memory.SETS} />
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

const NOUN = { USER: 'user', GROUP: 'group' } as const;

/**
 * Users or groups to pick from, a page at a time from the server and found by exact name; what is
 * picked stays picked across pages and searches. The search and the page are the wizard's, so
 * they are still there after a step back.
 */
function PrincipalPicker({
  type,
  selected,
  setSelected,
  search: applied,
  setSearch: setApplied,
  memory,
}: {
  type: Principal['type'];
  selected: Principal[];
  setSelected: (p: Principal[]) => void;
  search: string;
  setSearch: (s: string) => void;
  memory: PageMemory;
}) {
  const { instance } = useConsole();
  const noun = NOUN[type];
  const { page, items, pagination } = useServerPages(async (NextToken, MaxResults): Promise<Page<Principal>> => {
    if (type === 'USER') {
      const r = await directoryPage<User>('Users', instance.IdentityStoreId, applied, NextToken, MaxResults);
      return { ...r, items: r.items.map((u) => ({ type, id: u.UserId, name: u.UserName })) };
    }
    const r = await directoryPage<Group>('Groups', instance.IdentityStoreId, applied, NextToken, MaxResults);
    return { ...r, items: r.items.map((g) => ({ type, id: g.GroupId, name: g.DisplayName ?? g.GroupId })) };
  }, [type, applied], undefined, memory);
  const label = type === 'USER' ? 'Find a user by exact user name' : 'Find a group by exact name';
  return (
    <Table
      items={items}
      loading={page.state === 'loading'}
      loadingText={`Loading ${noun}s`}
      trackBy="id"
      selectionType="multi"
      selectedItems={selected}
      onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
      ariaLabels={{ selectionGroupLabel: `${noun}s to assign`, itemSelectionLabel: (_s, p) => `Select ${p.name}`, allItemsSelectionLabel: () => `Select every ${noun} on this page` }}
      filter={<NameFilter label={label} onApply={setApplied} initial={applied} />}
      pagination={pagination}
      columnDefinitions={[{ id: 'name', header: type === 'USER' ? 'Username' : 'Group name', cell: (p) => p.name }]}
      empty={page.state === 'failed' ? page.message : applied ? `No ${noun} is named ${applied}.` : `No ${noun}s.`}
    />
  );
}

/** The permission sets to assign, a page at a time (each described for its name). */
function PermissionSetPicker({ selected, setSelected, memory }: { selected: PermissionSet[]; setSelected: (p: PermissionSet[]) => void; memory: PageMemory }) {
  const { instance } = useConsole();
  const { page, items, pagination } = useServerPages(async (NextToken, MaxResults) => {
    const r = await aws<{ PermissionSets: string[]; NextToken?: string }>('ssoAdmin', 'ListPermissionSets', { InstanceArn: instance.InstanceArn, MaxResults, NextToken });
    const described = await Promise.all(
      r.PermissionSets.map(async (arn) => (await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'DescribePermissionSet', { InstanceArn: instance.InstanceArn, PermissionSetArn: arn })).PermissionSet),
    );
    return { items: described, nextToken: r.NextToken };
  }, [], undefined, memory);
  return (
    <Table
      items={items}
      loading={page.state === 'loading'}
      loadingText="Loading permission sets"
      trackBy="PermissionSetArn"
      selectionType="multi"
      selectedItems={selected}
      onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
      ariaLabels={{ selectionGroupLabel: 'Permission sets to assign', itemSelectionLabel: (_s, ps) => `Select ${ps.Name}`, allItemsSelectionLabel: () => 'Select every permission set on this page' }}
      pagination={pagination}
      columnDefinitions={[
        { id: 'name', header: 'Permission set', cell: (ps) => ps.Name },
        { id: 'description', header: 'Description', cell: (ps) => ps.Description ?? '-' },
        { id: 'duration', header: 'Session duration', cell: (ps) => ps.SessionDuration ?? '-' },
      ]}
      empty={page.state === 'failed' ? page.message : 'No permission sets: create one first.'}
    />
  );
}
