// AWS accounts: the organization's tree of OUs and accounts; create an account or an OU, move an
// account, and "Assign users or groups" to the selected accounts.

import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Icon from '@cloudscape-design/components/icon';
import Input from '@cloudscape-design/components/input';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import { allPages, aws, messageOf, type Account } from '../api.js';
import { Dialog, Failed, fieldErrors, looksLikeEmail, useLoad } from '../parts.js';
import { useConsole } from '../shell.js';

interface Node {
  kind: 'root' | 'ou' | 'account';
  id: string;
  name: string;
  depth: number;
  parentId?: string;
  account?: Account;
}

/** The tree, depth first: each parent, then its OUs (and theirs), then its accounts. */
async function loadTree(): Promise<Node[]> {
  const { Roots } = await aws<{ Roots: { Id: string; Name: string }[] }>('organizations', 'ListRoots', {});
  const rows: Node[] = [];
  const walk = async (id: string, name: string, kind: Node['kind'], depth: number, parentId?: string) => {
    rows.push({ kind, id, name, depth, ...(parentId ? { parentId } : {}) });
    const ous = await allPages(async (NextToken) => {
      const r = await aws<{ OrganizationalUnits: { Id: string; Name: string }[]; NextToken?: string }>('organizations', 'ListOrganizationalUnitsForParent', { ParentId: id, NextToken });
      return { items: r.OrganizationalUnits, nextToken: r.NextToken };
    });
    for (const ou of ous) await walk(ou.Id, ou.Name, 'ou', depth + 1, id);
    const accounts = await allPages(async (NextToken) => {
      const r = await aws<{ Accounts: Account[]; NextToken?: string }>('organizations', 'ListAccountsForParent', { ParentId: id, MaxResults: 20, NextToken });
      return { items: r.Accounts, nextToken: r.NextToken };
    });
    for (const a of accounts) rows.push({ kind: 'account', id: a.Id, name: a.Name, depth: depth + 1, parentId: id, account: a });
  };
  for (const root of Roots) await walk(root.Id, root.Name, 'root', 0);
  return rows;
}

export default function Accounts() {
  const { canWrite, navigate } = useConsole();
  const [tree, reload] = useLoad(loadTree);
  const [selected, setSelected] = useState<Node[]>([]);
  const [dialog, setDialog] = useState<'account' | 'ou' | 'move'>();
  const rows = tree.state === 'ready' ? tree.value : [];
  const parents = rows.filter((r) => r.kind !== 'account');
  const selectedAccounts = selected.filter((s) => s.kind === 'account');
  const done = (changed: boolean) => {
    setDialog(undefined);
    if (changed) {
      setSelected([]);
      reload();
    }
  };
  return (
    <SpaceBetween size="l">
      {tree.state === 'failed' && <Failed message={tree.message} />}
      <Table<Node>
        variant="full-page"
        loading={tree.state === 'loading'}
        loadingText="Loading the organization"
        items={rows}
        trackBy="id"
        selectionType="multi"
        selectedItems={selected}
        isItemDisabled={(n) => n.kind !== 'account'}
        onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
        ariaLabels={{
          selectionGroupLabel: 'Accounts to assign',
          itemSelectionLabel: (_s, n) => `Select ${n.name}`,
          allItemsSelectionLabel: () => 'Select every account',
        }}
        header={
          <Header
            variant="awsui-h1-sticky"
            description="The organization's structure. Select accounts to assign users or groups to them."
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                {canWrite && <Button onClick={() => setDialog('ou')}>Create organizational unit</Button>}
                {canWrite && <Button onClick={() => setDialog('account')}>Create account</Button>}
                {canWrite && (
                  <Button disabled={selectedAccounts.length !== 1} onClick={() => setDialog('move')}>
                    Move account
                  </Button>
                )}
                {canWrite && (
                  <Button variant="primary" disabled={selectedAccounts.length === 0} onClick={() => navigate(`/accounts/assign?accounts=${selectedAccounts.map((a) => a.id).join(',')}`)}>
                    Assign users or groups
                  </Button>
                )}
              </SpaceBetween>
            }
          >
            AWS accounts
          </Header>
        }
        columnDefinitions={[
          {
            id: 'name',
            header: 'Name',
            cell: (n) => (
              <span style={{ paddingLeft: `${n.depth * 24}px` }}>
                <Icon name={n.kind === 'account' ? 'file' : 'folder'} /> {n.name}
              </span>
            ),
          },
          { id: 'id', header: 'ID', cell: (n) => n.id },
          { id: 'email', header: 'Email', cell: (n) => n.account?.Email ?? '' },
          { id: 'status', header: 'Status', cell: (n) => (n.account ? <StatusIndicator type={n.account.Status === 'ACTIVE' ? 'success' : 'stopped'}>{n.account.Status}</StatusIndicator> : '') },
        ]}
        empty="No accounts yet."
      />
      {dialog === 'account' && <CreateAccount parents={parents} onDone={done} />}
      {dialog === 'ou' && <CreateOu parents={parents} onDone={done} />}
      {dialog === 'move' && selectedAccounts[0] && <MoveAccount account={selectedAccounts[0]} parents={parents} onDone={done} />}
    </SpaceBetween>
  );
}

const parentOption = (p: Node) => ({ value: p.id, label: `${'\u2003'.repeat(p.depth)}${p.name}`, description: p.id });

// What Organizations takes (src/protocols/aws/organizations.ts), checked before anything is sent:
// an account's name is 1 to 50 printable ASCII characters and its email 6 to 64 characters in the
// form name@example.com; an OU's name is 1 to 128 characters.
const ACCOUNT_NAME_MAX = 50;
const EMAIL_MIN = 6;
const EMAIL_MAX = 64;
const OU_NAME_MAX = 128;

function accountProblems(name: string, email: string): { AccountName?: string; Email?: string } {
  const problems: { AccountName?: string; Email?: string } = {};
  if (!name) problems.AccountName = "Enter the account's name.";
  else if (name.length > ACCOUNT_NAME_MAX) problems.AccountName = `Use at most ${ACCOUNT_NAME_MAX} characters (this is ${name.length}).`;
  else if (!/^[\u0020-\u007E]+$/.test(name)) problems.AccountName = 'Use only unaccented letters, digits, spaces and punctuation (printable ASCII).';
  if (!email) problems.Email = "Enter the email address of the account's owner.";
  else if (!looksLikeEmail(email)) problems.Email = 'Enter an email address, such as name@example.com.';
  else if (email.length < EMAIL_MIN || email.length > EMAIL_MAX) problems.Email = `Use an email address of ${EMAIL_MIN} to ${EMAIL_MAX} characters (this is ${email.length}).`;
  return problems;
}

function CreateAccount({ parents, onDone }: { parents: Node[]; onDone: (changed: boolean) => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [parent, setParent] = useState(parents[0]);
  const [error, setError] = useState<unknown>();
  const [progress, setProgress] = useState<string>();
  const [problems, setProblems] = useState<{ AccountName?: string; Email?: string }>({});
  const errors = { ...fieldErrors(error, ['AccountName', 'Email']), ...problems };
  const submit = async () => {
    setError(undefined);
    const found = accountProblems(name, email);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setProgress('Creating the account');
    try {
      let { CreateAccountStatus: status } = await aws<{ CreateAccountStatus: { Id: string; State: string; AccountId?: string; FailureReason?: string } }>('organizations', 'CreateAccount', {
        AccountName: name,
        Email: email,
      });
      while (status.State === 'IN_PROGRESS') {
        await new Promise((r) => setTimeout(r, 300));
        ({ CreateAccountStatus: status } = await aws<{ CreateAccountStatus: typeof status }>('organizations', 'DescribeCreateAccountStatus', { CreateAccountRequestId: status.Id }));
      }
      if (status.State !== 'SUCCEEDED') throw new Error(`The account was not created: ${status.FailureReason ?? status.State}`);
      if (parent && parent.kind !== 'root') {
        setProgress('Moving the account into its OU');
        const root = parents.find((p) => p.kind === 'root')!;
        await aws('organizations', 'MoveAccount', { AccountId: status.AccountId, SourceParentId: root.id, DestinationParentId: parent.id });
      }
      onDone(true);
    } catch (err) {
      setError(err);
      setProgress(undefined);
    }
  };
  return (
    <Dialog header="Create account" busy={progress !== undefined} submitText="Create account" onSubmit={() => void submit()} onCancel={() => onDone(false)} error={error && !Object.keys(errors).length ? messageOf(error) : undefined}>
      <FormField label="Account name" constraintText={`Required. Up to ${ACCOUNT_NAME_MAX} characters: unaccented letters, digits, spaces and punctuation.`} errorText={errors.AccountName}>
        <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Account name" />
      </FormField>
      <FormField label="Email address of the account's owner" constraintText="Required." errorText={errors.Email}>
        <Input value={email} type="email" onChange={({ detail }) => setEmail(detail.value)} ariaLabel="Email address of the account's owner" />
      </FormField>
      <FormField label="Place it in">
        <Select selectedOption={parent ? parentOption(parent) : null} options={parents.map(parentOption)} onChange={({ detail }) => setParent(parents.find((p) => p.id === detail.selectedOption.value))} ariaLabel="Parent" />
      </FormField>
      {progress && <StatusIndicator type="loading">{progress}</StatusIndicator>}
    </Dialog>
  );
}

function CreateOu({ parents, onDone }: { parents: Node[]; onDone: (changed: boolean) => void }) {
  const [name, setName] = useState('');
  const [parent, setParent] = useState(parents[0]);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setError(undefined);
    const found = !name ? 'Enter a name for the organizational unit.' : name.length > OU_NAME_MAX ? `Use at most ${OU_NAME_MAX} characters (this is ${name.length}).` : undefined;
    setProblem(found);
    if (found) return;
    setBusy(true);
    try {
      await aws('organizations', 'CreateOrganizationalUnit', { ParentId: parent?.id, Name: name });
      onDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog header="Create organizational unit" busy={busy} submitText="Create organizational unit" onSubmit={() => void submit()} onCancel={() => onDone(false)}>
      <FormField label="Name" constraintText={`Required. Up to ${OU_NAME_MAX} characters.`} errorText={problem ?? (error ? messageOf(error) : undefined)}>
        <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Organizational unit name" />
      </FormField>
      <FormField label="Parent">
        <Select selectedOption={parent ? parentOption(parent) : null} options={parents.map(parentOption)} onChange={({ detail }) => setParent(parents.find((p) => p.id === detail.selectedOption.value))} ariaLabel="Parent" />
      </FormField>
    </Dialog>
  );
}

function MoveAccount({ account, parents, onDone }: { account: Node; parents: Node[]; onDone: (changed: boolean) => void }) {
  const targets = parents.filter((p) => p.id !== account.parentId);
  const [target, setTarget] = useState(targets[0]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setError(undefined);
    setBusy(true);
    try {
      await aws('organizations', 'MoveAccount', { AccountId: account.id, SourceParentId: account.parentId, DestinationParentId: target?.id });
      onDone(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog header={`Move ${account.name}`} busy={busy} submitText="Move account" onSubmit={() => void submit()} onCancel={() => onDone(false)}>
      {targets.length === 0 ? (
        <Alert type="info">There is no other place to move it to: create an organizational unit first.</Alert>
      ) : (
        <FormField label="Destination" errorText={error}>
          <Select selectedOption={target ? parentOption(target) : null} options={targets.map(parentOption)} onChange={({ detail }) => setTarget(targets.find((p) => p.id === detail.selectedOption.value))} ariaLabel="Destination" />
        </FormField>
      )}
      <Box variant="small">Its assignments stay as they are.</Box>
    </Dialog>
  );
}
