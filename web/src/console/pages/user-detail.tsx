// One user: attributes (edit), disable and enable, a one-time password, their MFA devices (delete
// one, or reset MFA, which ends their sessions too), their portal sessions (paged; revoke), group
// memberships and account assignments.

import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import { admin, aws, AwsError, messageOf, primaryEmail, when, type Email, type User } from '../api.js';
import { groupName, namedAssignments } from '../names.js';
import { deviceTypeLabel, type MfaDevice } from '../mfa.js';
import { NameFilter, useServerPages } from '../paging.js';
import { ConsoleLink, Dialog, EditActions, Failed, fieldErrors, KeyValue, missingFields, RowAction, useLoad, USER_FIELD_PATHS } from '../parts.js';
import { isMissing, NotFound } from '../not-found.js';
import { useConsole } from '../shell.js';

type Described = User & { UserStatus?: string };

/**
 * The admin API's query naming a user. Never a path segment: browsers and fetch resolve a segment
 * `.` or `..` (even percent-encoded) before sending, so the users so named would be out of reach.
 */
const byName = (userName: string) => new URLSearchParams({ userName }).toString();
interface Session {
  SessionId: string;
  CreatedAt: number;
  ExpiresAt: number;
  SourceIp: string;
}

export default function UserDetail({ id }: { id: string }) {
  const { instance, canWrite, navigate } = useConsole();
  const [user, reload] = useLoad(() => aws<Described>('identitystore', 'DescribeUser', { IdentityStoreId: instance.IdentityStoreId, UserId: id }), [id]);
  const [editing, setEditing] = useState(false);
  const [password, setPassword] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // Bumped by an MFA reset, which ends the user's sessions: the sessions table loads again.
  const [sessionsVersion, setSessionsVersion] = useState(0);

  if (user.state === 'loading') return <Spinner size="large" />;
  if (user.state === 'failed') return isMissing(user.error) ? <NotFound message={`No user has the id ${id}.`} back={{ to: '/users', text: 'Go to Users' }} /> : <Failed message={user.message} />;
  const u = user.value;
  const disabled = u.UserStatus === 'DISABLED';
  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await action();
    } catch (err) {
      setActionError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const setStatus = () =>
    act(async () => {
      await aws('identitystore', 'UpdateUser', {
        IdentityStoreId: instance.IdentityStoreId,
        UserId: u.UserId,
        Operations: [{ AttributePath: 'UserStatus', AttributeValue: disabled ? 'ENABLED' : 'DISABLED' }],
      });
      reload();
    });
  const resetPassword = () => act(async () => setPassword((await admin<{ Password: string }>('POST', `/one-time-passwords?${byName(u.UserName)}`)).Password));
  const remove = () =>
    act(async () => {
      if (!window.confirm(`Delete ${u.UserName}? Their sessions and credentials end.`)) return;
      await aws('identitystore', 'DeleteUser', { IdentityStoreId: instance.IdentityStoreId, UserId: u.UserId });
      navigate('/users');
    });

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description={u.UserId}
          actions={
            canWrite && (
              <SpaceBetween direction="horizontal" size="xs">
                <Button onClick={() => void resetPassword()} disabled={busy}>
                  Generate one-time password
                </Button>
                <Button onClick={() => void setStatus()} disabled={busy}>
                  {disabled ? 'Enable user' : 'Disable user'}
                </Button>
                <Button onClick={() => void remove()} disabled={busy}>
                  Delete user
                </Button>
              </SpaceBetween>
            )
          }
        >
          {u.UserName}
        </Header>
      }
    >
      <SpaceBetween size="l">
        {actionError && <Alert type="error">{actionError}</Alert>}
        {password && (
          <Modal visible closeAriaLabel="Close" header="One-time password" onDismiss={() => setPassword(undefined)} footer={<Button onClick={() => setPassword(undefined)}>Close</Button>}>
            <SpaceBetween size="s">
              <Box>
                Give this password to {u.UserName}: it is shown only now, and they choose their own at their next sign-in.
              </Box>
              <CopyToClipboard variant="inline" textToCopy={password} copyButtonAriaLabel="Copy the password" copySuccessText="Password copied" copyErrorText="Could not copy" />
            </SpaceBetween>
          </Modal>
        )}
        <Container
          header={
            <Header variant="h2" actions={canWrite && !editing && <Button onClick={() => setEditing(true)}>Edit</Button>}>
              General information
            </Header>
          }
        >
          {editing ? (
            <EditUser
              user={u}
              onDone={(changed) => {
                setEditing(false);
                if (changed) reload();
              }}
            />
          ) : (
            <ColumnLayout columns={3} variant="text-grid">
              <KeyValue label="Username">{u.UserName}</KeyValue>
              <KeyValue label="Display name">{u.DisplayName ?? '-'}</KeyValue>
              <KeyValue label="Status">{disabled ? <StatusIndicator type="stopped">Disabled</StatusIndicator> : <StatusIndicator>Enabled</StatusIndicator>}</KeyValue>
              <KeyValue label="First name">{u.Name?.GivenName ?? '-'}</KeyValue>
              <KeyValue label="Last name">{u.Name?.FamilyName ?? '-'}</KeyValue>
              <KeyValue label="Email">{primaryEmail(u)?.Value ?? '-'}</KeyValue>
            </ColumnLayout>
          )}
        </Container>
        <Memberships userId={u.UserId} />
        <Assignments userId={u.UserId} />
        <MfaDevices userName={u.UserName} onReset={() => setSessionsVersion((v) => v + 1)} />
        <Sessions userName={u.UserName} version={sessionsVersion} />
      </SpaceBetween>
    </ContentLayout>
  );
}

/** The user's own account assignments. Its own component, at module level (as the others), so that
 * the page rendering again (a one-time password shown, a status changed) does not load it again. */
function Assignments({ userId }: { userId: string }) {
  const { instance } = useConsole();
  const [list] = useLoad(() => namedAssignments(instance.InstanceArn, 'USER', userId), [userId]);
  return (
    <Table
      header={<Header variant="h2" description="Assigned to this user directly; those through groups are on each group's page.">AWS account assignments</Header>}
      loading={list.state === 'loading'}
      loadingText="Loading assignments"
      items={list.state === 'ready' ? list.value : []}
      columnDefinitions={[
        { id: 'account', header: 'AWS account', cell: (a) => `${a.accountName} (${a.AccountId})` },
        { id: 'ps', header: 'Permission set', cell: (a) => a.permissionSetName },
      ]}
      empty={list.state === 'failed' ? list.message : 'No assignments.'}
    />
  );
}

/**
 * The user's portal sessions, a page at a time (the admin API pages them), each revocable; a refused
 * revoke's message stays until the next try. `version` changes when something else ended them (an
 * MFA reset), which loads them again from the first page.
 */
function Sessions({ userName, version }: { userName: string; version: number }) {
  const { canWrite } = useConsole();
  const { page: sessions, items, reload, pagination } = useServerPages(async (NextToken, MaxResults) => {
    const query = new URLSearchParams({ userName, maxResults: String(MaxResults), ...(NextToken ? { nextToken: NextToken } : {}) });
    const r = await admin<{ Sessions: Session[]; NextToken?: string }>('GET', `/sessions?${query}`);
    return { items: r.Sessions, nextToken: r.NextToken };
  }, [userName, version]);
  const [error, setError] = useState<string>();
  const revoke = async (sessionId?: string) => {
    setError(undefined);
    try {
      await admin('DELETE', sessionId ? `/sessions/${encodeURIComponent(sessionId)}` : `/sessions?${byName(userName)}`);
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <SpaceBetween size="s">
      {error && <Alert type="error">{error}</Alert>}
      <Table
        header={
          <Header variant="h2" actions={canWrite && items.length > 0 && <Button onClick={() => void revoke()}>Revoke all sessions</Button>}>
            Active sessions
          </Header>
        }
        loading={sessions.state === 'loading'}
        loadingText="Loading sessions"
        items={items}
        pagination={pagination}
        columnDefinitions={[
          { id: 'created', header: 'Started', cell: (s) => when(s.CreatedAt) },
          { id: 'expires', header: 'Expires', cell: (s) => when(s.ExpiresAt) },
          { id: 'ip', header: 'Source IP', cell: (s) => s.SourceIp },
          {
            id: 'revoke',
            header: 'Actions',
            cell: (s) => <RowAction label="Revoke" ariaLabel={`Revoke the session started ${when(s.CreatedAt)}`} onClick={() => void revoke(s.SessionId)} />,
          },
        ]}
        empty={sessions.state === 'failed' ? sessions.message : 'No active sessions.'}
      />
    </SpaceBetween>
  );
}

/** A user's MFA devices: delete one, or reset MFA (all of them), each after a confirmation. Its own
 * component, so that a confirmation stays open when the page around it renders again. */
function MfaDevices({ userName, onReset }: { userName: string; onReset: () => void }) {
  const { canWrite } = useConsole();
  const [devices, reloadDevices] = useLoad(async () => (await admin<{ Devices: MfaDevice[] }>('GET', `/mfa-devices?${byName(userName)}`)).Devices, [userName]);
  // The device to delete, or 'all' to reset MFA, while its confirmation is open.
  const [confirming, setConfirming] = useState<MfaDevice | 'all'>();
  const [error, setError] = useState<string>();
  const [removing, setRemoving] = useState(false);
  const remove = async () => {
    setRemoving(true);
    setError(undefined);
    try {
      await admin('DELETE', confirming === 'all' ? `/mfa-devices?${byName(userName)}` : `/mfa-devices/${encodeURIComponent(confirming!.DeviceId)}?${byName(userName)}`);
      if (confirming === 'all') onReset();
      setConfirming(undefined);
      reloadDevices();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setRemoving(false);
    }
  };
  const items = devices.state === 'ready' ? devices.value : [];
  return (
    <>
      {confirming && (
        <Dialog
          header={confirming === 'all' ? 'Reset MFA' : 'Delete MFA device'}
          submitText={confirming === 'all' ? 'Reset MFA' : 'Delete'}
          busy={removing}
          error={error}
          onSubmit={() => void remove()}
          onCancel={() => (setConfirming(undefined), setError(undefined))}
        >
          <Box>
            {confirming === 'all'
              ? `Delete every MFA device of ${userName}? Their portal sessions end too, with the CLI sign-ins and credentials from them. When MFA is required, they register a new device at their next sign-in.`
              : `Delete the MFA device "${confirming.Name}" of ${userName}? It no longer signs them in.`}
          </Box>
        </Dialog>
      )}
      <Table
        header={
          <Header
            variant="h2"
            counter={`(${items.length})`}
            description="Authenticator apps and security keys this user signs in with."
            actions={canWrite && items.length > 0 && <Button onClick={() => setConfirming('all')}>Reset MFA</Button>}
          >
            MFA devices
          </Header>
        }
        loading={devices.state === 'loading'}
        loadingText="Loading MFA devices"
        items={items}
        columnDefinitions={[
          { id: 'name', header: 'Name', cell: (d) => d.Name },
          { id: 'type', header: 'Type', cell: (d) => `${deviceTypeLabel(d.Type)}${d.Passkey ? ' (passkey)' : ''}` },
          { id: 'created', header: 'Registered', cell: (d) => when(d.CreatedAt) },
          { id: 'used', header: 'Last used', cell: (d) => when(d.LastUsedAt) },
          { id: 'delete', header: 'Actions', cell: (d) => <RowAction label="Delete" ariaLabel={`Delete the MFA device ${d.Name}`} onClick={() => setConfirming(d)} /> },
        ]}
        empty={devices.state === 'failed' ? devices.message : 'No MFA devices.'}
      />
    </>
  );
}

const EDIT_FIELDS = ['DisplayName', 'GivenName', 'FamilyName', 'Email'] as const;
type EditValues = Record<(typeof EDIT_FIELDS)[number], string>;

const editValues = (user: User): EditValues => ({
  DisplayName: user.DisplayName ?? '',
  GivenName: user.Name?.GivenName ?? '',
  FamilyName: user.Name?.FamilyName ?? '',
  Email: primaryEmail(user)?.Value ?? '',
});

/**
 * The user's emails with the one the form shows (the primary, else the first) set to `value`, or
 * removed when `value` is empty; the other emails, and the shown one's type and primary flag, stay.
 */
function emailsWith(user: User, value: string): Email[] {
  const emails = user.Emails ?? [];
  const shown = primaryEmail(user);
  if (!shown) return value ? [{ Value: value, Type: 'work', Primary: true }] : [];
  return emails.flatMap((e) => (e !== shown ? [e] : value ? [{ ...e, Value: value }] : []));
}

/**
 * The UpdateUser operations of what the form changed, and only those: an attribute the form does
 * not show (another email, a middle name, a phone number) is never sent, so it stays as it is.
 */
function changedOperations(user: User, before: EditValues, after: EditValues) {
  const set = (AttributePath: string, value: unknown) => (value === '' || (Array.isArray(value) && value.length === 0) ? { AttributePath } : { AttributePath, AttributeValue: value });
  const operations = [];
  if (after.DisplayName !== before.DisplayName) operations.push(set('displayName', after.DisplayName));
  if (after.GivenName !== before.GivenName) operations.push(set('name.givenName', after.GivenName));
  if (after.FamilyName !== before.FamilyName) operations.push(set('name.familyName', after.FamilyName));
  if (after.Email !== before.Email) operations.push(set('emails', emailsWith(user, after.Email)));
  return operations;
}

function EditUser({ user, onDone }: { user: User; onDone: (changed: boolean) => void }) {
  const { instance } = useConsole();
  const [v, setV] = useState(() => editValues(user));
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState<Partial<EditValues>>({});
  const [busy, setBusy] = useState(false);
  const errors: Partial<EditValues> = { ...fieldErrors(error, EDIT_FIELDS, USER_FIELD_PATHS), ...missing };
  const save = async () => {
    setError(undefined);
    const before = editValues(user);
    // A name the user has cannot be emptied (IAM Identity Center requires them); an email can.
    const required = { DisplayName: 'Enter a display name.', GivenName: 'Enter a first name.', FamilyName: 'Enter a last name.' };
    const problems = missingFields(v, Object.fromEntries(Object.entries(required).filter(([f]) => v[f as keyof EditValues] !== before[f as keyof EditValues])), v.Email !== before.Email ? 'Email' : undefined);
    setMissing(problems);
    if (Object.keys(problems).length > 0) return;
    const Operations = changedOperations(user, before, v);
    if (Operations.length === 0) return onDone(false);
    setBusy(true);
    try {
      // One UpdateUser: every change applies, or none does.
      await aws('identitystore', 'UpdateUser', { IdentityStoreId: instance.IdentityStoreId, UserId: user.UserId, Operations });
      onDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const field = (name: (typeof EDIT_FIELDS)[number], label: string) => (
    <FormField label={label} errorText={errors[name]}>
      <Input value={v[name]} onChange={({ detail }) => setV({ ...v, [name]: detail.value })} ariaLabel={label} />
    </FormField>
  );
  return (
    <form onSubmit={(e) => (e.preventDefault(), void save())}>
      <Form
        actions={<EditActions onCancel={() => onDone(false)} busy={busy} />}
      >
        <SpaceBetween size="m">
          {field('DisplayName', 'Display name')}
          {field('GivenName', 'First name')}
          {field('FamilyName', 'Last name')}
          {field('Email', 'Email address')}
        </SpaceBetween>
      </Form>
    </form>
  );
}

/** The user's membership of the group named `name` exactly: one row, or none. */
async function groupNamed(IdentityStoreId: string, UserId: string, name: string) {
  try {
    const { GroupId } = await aws<{ GroupId: string }>('identitystore', 'GetGroupId', { IdentityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: name } } });
    const { MembershipId } = await aws<{ MembershipId: string }>('identitystore', 'GetGroupMembershipId', { IdentityStoreId, GroupId, MemberId: { UserId } });
    return [{ GroupId, MembershipId, name }];
  } catch (err) {
    if (err instanceof AwsError && err.type === 'ResourceNotFoundException') return [];
    throw err;
  }
}

/** The groups a user is in, paged on the server, or the one found by exact name (a component of its own, so its page survives the user page re-rendering). */
function Memberships({ userId }: { userId: string }) {
  const { instance } = useConsole();
  const [findGroup, setFindGroup] = useState('');
  const { page: groups, items, pagination } = useServerPages(async (NextToken, MaxResults) => {
    if (findGroup) return { items: await groupNamed(instance.IdentityStoreId, userId, findGroup) };
    const r = await aws<{ GroupMemberships: { GroupId: string; MembershipId: string }[]; NextToken?: string }>('identitystore', 'ListGroupMembershipsForMember', {
      IdentityStoreId: instance.IdentityStoreId,
      MemberId: { UserId: userId },
      MaxResults,
      NextToken,
    });
    return { items: await Promise.all(r.GroupMemberships.map(async (m) => ({ ...m, name: await groupName(instance.IdentityStoreId, m.GroupId) }))), nextToken: r.NextToken };
  }, [userId, findGroup]);
  return (
    <Table
      header={<Header variant="h2">Groups</Header>}
      filter={<NameFilter label="Find a group by exact name" onApply={setFindGroup} />}
      loading={groups.state === 'loading'}
      loadingText="Loading groups"
      items={items}
      pagination={pagination}
      columnDefinitions={[
        {
          id: 'group',
          header: 'Group',
          cell: (g) => (
            <ConsoleLink to={`/groups/${g.GroupId}`}>{g.name}</ConsoleLink>
          ),
        },
      ]}
      empty={groups.state === 'failed' ? groups.message : findGroup ? `Not a member of ${findGroup}.` : 'Not a member of any group.'}
    />
  );
}
