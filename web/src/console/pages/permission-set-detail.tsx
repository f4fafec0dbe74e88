// One permission set: its details (session duration, relay state), AWS managed policies,
// customer managed policy references, the inline policy editor, the permissions boundary, the
// accounts it is provisioned to, and re-provisioning.

import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import RadioGroup from '@cloudscape-design/components/radio-group';
import Select from '@cloudscape-design/components/select';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import { AwsError, aws, messageOf, type PermissionSet } from '../api.js';
import { accountName } from '../names.js';
import { DURATIONS } from '../permission-set-shapes.js';
import { useServerPages } from '../paging.js';
import { EditActions, Failed, fieldErrors, InlineForm, KeyValue, RowAction, useLoad } from '../parts.js';
import { isMissing, NotFound } from '../not-found.js';
import { useConsole } from '../shell.js';

interface Boundary {
  ManagedPolicyArn?: string;
  CustomerManagedPolicyReference?: { Name: string; Path?: string };
}

export default function PermissionSetDetail({ id }: { id: string }) {
  const { instance, canWrite, navigate } = useConsole();
  const target = { InstanceArn: instance.InstanceArn, PermissionSetArn: `arn:aws:sso:::permissionSet/${id}` };
  const [ps, reload] = useLoad(async () => (await aws<{ PermissionSet: PermissionSet }>('ssoAdmin', 'DescribePermissionSet', target)).PermissionSet, [id]);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string>();

  if (ps.state === 'loading') return <Spinner size="large" />;
  if (ps.state === 'failed') return isMissing(ps.error) ? <NotFound message={`No permission set has the id ${id}.`} back={{ to: '/permission-sets', text: 'Go to Permission sets' }} /> : <Failed message={ps.message} />;
  const p = ps.value;
  const remove = async () => {
    if (!window.confirm(`Delete the permission set ${p.Name}?`)) return;
    try {
      await aws('ssoAdmin', 'DeletePermissionSet', target);
      navigate('/permission-sets');
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <ContentLayout header={<Header variant="h1" description={p.PermissionSetArn} actions={canWrite && <Button onClick={() => void remove()}>Delete</Button>}>{p.Name}</Header>}>
      <SpaceBetween size="l">
        {error && <Alert type="error">{error}</Alert>}
        <Container header={<Header variant="h2" actions={canWrite && !editing && <Button onClick={() => setEditing(true)}>Edit</Button>}>General settings</Header>}>
          {editing ? (
            <EditDetails ps={p} target={target} onDone={(changed) => (setEditing(false), changed && reload())} />
          ) : (
            <ColumnLayout columns={3} variant="text-grid">
              <KeyValue label="Description">{p.Description ?? '-'}</KeyValue>
              <KeyValue label="Session duration">{p.SessionDuration ?? '-'}</KeyValue>
              <KeyValue label="Relay state">{p.RelayState ?? '-'}</KeyValue>
            </ColumnLayout>
          )}
        </Container>
        {/* Keyed by the permission set: another one's page starts afresh, with nothing typed carried over. */}
        <ManagedPolicies key={`managed-${id}`} target={target} />
        <CustomerPolicies key={`customer-${id}`} target={target} />
        <InlinePolicy key={`inline-${id}`} target={target} />
        <PermissionsBoundary key={`boundary-${id}`} target={target} />
        <Provisioned key={`provisioned-${id}`} target={target} />
      </SpaceBetween>
    </ContentLayout>
  );
}

/** The permission set a section of its page shows. */
type Target = { InstanceArn: string; PermissionSetArn: string };

/** An attach or detach through `op`: when it succeeds `done` runs (clear the input, fetch the list again); when it fails its message shows. */
function useChange(target: Target, done: () => void) {
  const [err, setErr] = useState<string>();
  const change = async (op: string, fields: Record<string, unknown>) => {
    setErr(undefined);
    try {
      await aws('ssoAdmin', op, { ...target, ...fields });
      done();
    } catch (e) {
      setErr(messageOf(e));
    }
  };
  return { err, change };
}

// The sections are components of their own, at module level, so that a change to the page (an edit,
// a reload after saving) keeps their state: the page each list is on, and what is being typed.
function ManagedPolicies({ target }: { target: Target }) {
  const { canWrite } = useConsole();
  const { page: list, items, reload: reloadList, pagination } = useServerPages(async (NextToken, MaxResults) => {
    const r = await aws<{ AttachedManagedPolicies: { Name: string; Arn: string }[]; NextToken?: string }>('ssoAdmin', 'ListManagedPoliciesInPermissionSet', { ...target, MaxResults, NextToken });
    return { items: r.AttachedManagedPolicies, nextToken: r.NextToken };
  }, [target.PermissionSetArn]);
  const [arn, setArn] = useState('');
  const { err, change } = useChange(target, () => (setArn(''), reloadList()));
  return (
    <Table
      header={<Header variant="h2">AWS managed policies</Header>}
      loading={list.state === 'loading'}
      loadingText="Loading policies"
      items={items}
      pagination={pagination}
      filter={
        canWrite && (
          <InlineForm onSubmit={() => void change('AttachManagedPolicyToPermissionSet', { ManagedPolicyArn: arn })} submitText="Attach">
            <FormField label="Attach a policy by ARN" errorText={err}>
              <Input value={arn} onChange={({ detail }) => setArn(detail.value)} placeholder="arn:aws:iam::aws:policy/..." ariaLabel="Managed policy ARN" />
            </FormField>
          </InlineForm>
        )
      }
      columnDefinitions={[
        { id: 'name', header: 'Policy name', cell: (m) => m.Name },
        { id: 'arn', header: 'ARN', cell: (m) => m.Arn },
        {
          id: 'detach',
          header: 'Actions',
          cell: (m) => <RowAction label="Detach" ariaLabel={`Detach ${m.Name}`} onClick={() => void change('DetachManagedPolicyFromPermissionSet', { ManagedPolicyArn: m.Arn })} />,
        },
      ]}
      empty={list.state === 'failed' ? list.message : 'No AWS managed policies.'}
    />
  );
}

function CustomerPolicies({ target }: { target: Target }) {
  const { canWrite } = useConsole();
  const { page: list, items, reload: reloadList, pagination } = useServerPages(async (NextToken, MaxResults) => {
    const r = await aws<{ CustomerManagedPolicyReferences: { Name: string; Path?: string }[]; NextToken?: string }>('ssoAdmin', 'ListCustomerManagedPolicyReferencesInPermissionSet', { ...target, MaxResults, NextToken });
    return { items: r.CustomerManagedPolicyReferences, nextToken: r.NextToken };
  }, [target.PermissionSetArn]);
  const [name, setName] = useState('');
  const [path, setPath] = useState('/');
  const { err, change } = useChange(target, () => (setName(''), reloadList()));
  const [missing, setMissing] = useState<{ name?: string; path?: string }>({});
  const attach = () => {
    const problems = {
      ...(name.trim() ? {} : { name: "Enter the policy's name." }),
      ...(path.startsWith('/') && path.endsWith('/') ? {} : { path: 'Enter a path that starts and ends with /, such as / or /team/.' }),
    };
    setMissing(problems);
    if (!problems.name && !problems.path) void change('AttachCustomerManagedPolicyReferenceToPermissionSet', { CustomerManagedPolicyReference: { Name: name.trim(), Path: path } });
  };
  // The server's refusal at the field it names: the reference's Path, or else its name.
  const onPath = err !== undefined && /\bPath\b/.test(err) && !/\.Name\b/.test(err);
  const nameError = missing.name ?? (onPath ? undefined : err);
  const pathError = missing.path ?? (onPath ? err : undefined);
  return (
    <Table
      header={<Header variant="h2" description="Policies of the same name and path must exist in each account the set is provisioned to.">Customer managed policies</Header>}
      loading={list.state === 'loading'}
      loadingText="Loading policies"
      items={items}
      pagination={pagination}
      filter={
        canWrite && (
          <InlineForm onSubmit={attach} submitText="Attach">
            <FormField label="Policy name" errorText={nameError}>
              <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Customer managed policy name" />
            </FormField>
            <FormField label="Path" errorText={pathError}>
              <Input value={path} onChange={({ detail }) => setPath(detail.value)} ariaLabel="Customer managed policy path" />
            </FormField>
          </InlineForm>
        )
      }
      columnDefinitions={[
        { id: 'name', header: 'Policy name', cell: (r) => r.Name },
        { id: 'path', header: 'Path', cell: (r) => r.Path ?? '/' },
        {
          id: 'detach',
          header: 'Actions',
          cell: (r) => <RowAction label="Detach" ariaLabel={`Detach ${r.Name}`} onClick={() => void change('DetachCustomerManagedPolicyReferenceFromPermissionSet', { CustomerManagedPolicyReference: r })} />,
        },
      ]}
      empty={list.state === 'failed' ? list.message : 'No customer managed policies.'}
    />
  );
}

function InlinePolicy({ target }: { target: Target }) {
  const { canWrite } = useConsole();
  const [policy, reloadPolicy] = useLoad(async () => (await aws<{ InlinePolicy?: string }>('ssoAdmin', 'GetInlinePolicyForPermissionSet', target)).InlinePolicy ?? '');
  const [text, setText] = useState<string>();
  const [err, setErr] = useState<string>();
  const [saved, setSaved] = useState(false);
  const current = text ?? (policy.state === 'ready' ? policy.value : '');
  const save = async () => {
    setErr(undefined);
    setSaved(false);
    try {
      if (current.trim()) await aws('ssoAdmin', 'PutInlinePolicyToPermissionSet', { ...target, InlinePolicy: current });
      else await aws('ssoAdmin', 'DeleteInlinePolicyFromPermissionSet', target);
      setText(undefined);
      setSaved(true);
      reloadPolicy();
    } catch (e) {
      setErr(messageOf(e));
    }
  };
  return (
    <Container header={<Header variant="h2" description="An IAM policy document (JSON). Empty it and save to remove it.">Inline policy</Header>}>
      {policy.state === 'loading' ? (
        <Spinner />
      ) : (
        <form onSubmit={(e) => (e.preventDefault(), void save())}>
          <Form actions={canWrite && <Button>Save inline policy</Button>}>
            <FormField label="Policy document" errorText={err} stretch>
              <Textarea value={current} rows={10} readOnly={!canWrite} spellcheck={false} onChange={({ detail }) => (setText(detail.value), setSaved(false))} ariaLabel="Inline policy document" />
            </FormField>
            {saved && <StatusIndicator>Saved</StatusIndicator>}
          </Form>
        </form>
      )}
    </Container>
  );
}

function PermissionsBoundary({ target }: { target: Target }) {
  const { canWrite } = useConsole();
  const [boundary, reloadBoundary] = useLoad(async () => {
    try {
      return (await aws<{ PermissionsBoundary: Boundary }>('ssoAdmin', 'GetPermissionsBoundaryForPermissionSet', target)).PermissionsBoundary;
    } catch (e) {
      if (e instanceof AwsError && e.status === 404) return undefined;
      throw e;
    }
  });
  const [kind, setKind] = useState<'managed' | 'customer'>('managed');
  const [value, setValue] = useState('');
  const [err, setErr] = useState<string>();
  const act = async (put: boolean) => {
    setErr(undefined);
    try {
      if (put) {
        const PermissionsBoundary = kind === 'managed' ? { ManagedPolicyArn: value } : { CustomerManagedPolicyReference: { Name: value, Path: '/' } };
        await aws('ssoAdmin', 'PutPermissionsBoundaryToPermissionSet', { ...target, PermissionsBoundary });
      } else {
        await aws('ssoAdmin', 'DeletePermissionsBoundaryFromPermissionSet', target);
      }
      setValue('');
      reloadBoundary();
    } catch (e) {
      setErr(messageOf(e));
    }
  };
  const b = boundary.state === 'ready' ? boundary.value : undefined;
  return (
    <Container header={<Header variant="h2" description="The most the set's roles may ever be allowed.">Permissions boundary</Header>}>
      <SpaceBetween size="m">
        {boundary.state === 'failed' && <Failed message={boundary.message} />}
        <Box>{b ? (b.ManagedPolicyArn ?? `${b.CustomerManagedPolicyReference?.Path ?? '/'}${b.CustomerManagedPolicyReference?.Name ?? ''}`) : 'No permissions boundary.'}</Box>
        {canWrite && (
          <form onSubmit={(e) => (e.preventDefault(), void act(true))}>
            <Form
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  {b && (
                    <Button formAction="none" onClick={() => void act(false)}>
                      Remove boundary
                    </Button>
                  )}
                  <Button>Set boundary</Button>
                </SpaceBetween>
              }
            >
              <SpaceBetween size="s">
                <RadioGroup
                  value={kind}
                  ariaLabel="Boundary type"
                  onChange={({ detail }) => setKind(detail.value as 'managed' | 'customer')}
                  items={[
                    { value: 'managed', label: 'AWS managed policy (ARN)' },
                    { value: 'customer', label: 'Customer managed policy (name)' },
                  ]}
                />
                <FormField label={kind === 'managed' ? 'Policy ARN' : 'Policy name'} errorText={err}>
                  <Input value={value} onChange={({ detail }) => setValue(detail.value)} ariaLabel={kind === 'managed' ? 'Boundary policy ARN' : 'Boundary policy name'} />
                </FormField>
              </SpaceBetween>
            </Form>
          </form>
        )}
      </SpaceBetween>
    </Container>
  );
}

function Provisioned({ target }: { target: Target }) {
  const { canWrite } = useConsole();
  const { page: accounts, items, reload: reloadAccounts, pagination } = useServerPages(async (NextToken, MaxResults) => {
    const r = await aws<{ AccountIds: string[]; NextToken?: string }>('ssoAdmin', 'ListAccountsForProvisionedPermissionSet', { ...target, MaxResults, NextToken });
    return { items: await Promise.all(r.AccountIds.map(async (id) => ({ id, name: await accountName(id) }))), nextToken: r.NextToken };
  }, [target.PermissionSetArn]);
  const [status, setStatus] = useState<{ type: 'in-progress' | 'success' | 'error'; text: string }>();
  const reprovision = async () => {
    setStatus({ type: 'in-progress', text: 'Provisioning' });
    try {
      type Status = { RequestId: string; Status: string; FailureReason?: string };
      let { PermissionSetProvisioningStatus: s } = await aws<{ PermissionSetProvisioningStatus: Status }>('ssoAdmin', 'ProvisionPermissionSet', { ...target, TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
      while (s.Status === 'IN_PROGRESS') {
        await new Promise((r) => setTimeout(r, 300));
        ({ PermissionSetProvisioningStatus: s } = await aws<{ PermissionSetProvisioningStatus: Status }>('ssoAdmin', 'DescribePermissionSetProvisioningStatus', {
          InstanceArn: target.InstanceArn,
          ProvisionPermissionSetRequestId: s.RequestId,
        }));
      }
      setStatus(s.Status === 'SUCCEEDED' ? { type: 'success', text: 'Provisioned to every account' } : { type: 'error', text: `Failed: ${s.FailureReason ?? s.Status}` });
      reloadAccounts();
    } catch (e) {
      setStatus({ type: 'error', text: messageOf(e) });
    }
  };
  return (
    <Table
      pagination={pagination}
      header={
        <Header
          variant="h2"
          actions={
            <SpaceBetween direction="horizontal" size="xs" alignItems="center">
              {status && <StatusIndicator type={status.type}>{status.text}</StatusIndicator>}
              {canWrite && items.length > 0 && <Button onClick={() => void reprovision()}>Update in all accounts</Button>}
            </SpaceBetween>
          }
        >
          AWS accounts provisioned to
        </Header>
      }
      loading={accounts.state === 'loading'}
      loadingText="Loading accounts"
      items={items}
      columnDefinitions={[
        { id: 'name', header: 'AWS account', cell: (a) => a.name },
        { id: 'id', header: 'ID', cell: (a) => a.id },
      ]}
      empty={accounts.state === 'failed' ? accounts.message : 'Not provisioned to any account: assign it to users or groups on an account.'}
    />
  );
}

function EditDetails({ ps, target, onDone }: { ps: PermissionSet; target: { InstanceArn: string; PermissionSetArn: string }; onDone: (changed: boolean) => void }) {
  const [description, setDescription] = useState(ps.Description ?? '');
  const [duration, setDuration] = useState(ps.SessionDuration ?? 'PT1H');
  const [relayState, setRelayState] = useState(ps.RelayState ?? '');
  const [error, setError] = useState<unknown>();
  const errors = fieldErrors(error, ['Description', 'SessionDuration', 'RelayState']);
  const save = async () => {
    setError(undefined);
    try {
      // Only what changed; an emptied Description or Relay state is sent empty, which removes it.
      const changed = {
        ...(description !== (ps.Description ?? '') ? { Description: description } : {}),
        ...(duration !== (ps.SessionDuration ?? 'PT1H') ? { SessionDuration: duration } : {}),
        ...(relayState !== (ps.RelayState ?? '') ? { RelayState: relayState } : {}),
      };
      if (Object.keys(changed).length === 0) return onDone(false);
      await aws('ssoAdmin', 'UpdatePermissionSet', { ...target, ...changed });
      onDone(true);
    } catch (err) {
      setError(err);
    }
  };
  const options = DURATIONS.some((d) => d.value === duration) ? DURATIONS : [...DURATIONS, { value: duration, label: duration }];
  return (
    <form onSubmit={(e) => (e.preventDefault(), void save())}>
      <Form
        actions={<EditActions onCancel={() => onDone(false)} />}
      >
        <SpaceBetween size="m">
          <FormField label="Description" constraintText="Empty for none." errorText={errors.Description}>
            <Input value={description} onChange={({ detail }) => setDescription(detail.value)} ariaLabel="Description" />
          </FormField>
          <FormField label="Session duration" errorText={errors.SessionDuration}>
            <Select selectedOption={options.find((d) => d.value === duration) ?? null} options={options} onChange={({ detail }) => setDuration(detail.selectedOption.value!)} ariaLabel="Session duration" />
          </FormField>
          <FormField label="Relay state" constraintText="Empty for none." errorText={errors.RelayState}>
            <Input value={relayState} onChange={({ detail }) => setRelayState(detail.value)} ariaLabel="Relay state" />
          </FormField>
        </SpaceBetween>
      </Form>
    </form>
  );
}
