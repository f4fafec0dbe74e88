// Users: a list filtered (by exact user name) and paged on the server, and "Add user".

import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import { aws, messageOf, primaryEmail, type User } from '../api.js';
import { directoryPage, NameFilter, useServerPages } from '../paging.js';
import { ConsoleLink, Dialog, Failed, fieldErrors, missingFields, USER_FIELD_PATHS } from '../parts.js';
import { useConsole } from '../shell.js';

type Listed = User & { UserStatus?: string };

export default function Users() {
  const { instance, canWrite, navigate } = useConsole();
  const [applied, setApplied] = useState('');
  const [creating, setCreating] = useState(false);
  const { page, items: users, reload, pagination } = useServerPages((NextToken, MaxResults) => directoryPage<Listed>('Users', instance.IdentityStoreId, applied, NextToken, MaxResults), [applied]);

  return (
    <SpaceBetween size="l">
      {page.state === 'failed' && <Failed message={page.message} />}
      <Table<Listed>
        variant="full-page"
        loading={page.state === 'loading'}
        loadingText="Loading users"
        items={users}
        trackBy="UserId"
        header={
          <Header variant="awsui-h1-sticky" actions={canWrite && <Button variant="primary" onClick={() => setCreating(true)}>Add user</Button>}>
            Users
          </Header>
        }
        filter={
          <NameFilter label="Find a user by exact user name" onApply={setApplied} />
        }
        pagination={pagination}
        columnDefinitions={[
          {
            id: 'name',
            header: 'Username',
            cell: (u) => (
              <ConsoleLink to={`/users/${u.UserId}`}>{u.UserName}</ConsoleLink>
            ),
          },
          { id: 'display', header: 'Display name', cell: (u) => u.DisplayName ?? '-' },
          { id: 'email', header: 'Email', cell: (u) => primaryEmail(u)?.Value ?? '-' },
          {
            id: 'status',
            header: 'Status',
            cell: (u) => (u.UserStatus === 'DISABLED' ? <StatusIndicator type="stopped">Disabled</StatusIndicator> : <StatusIndicator>Enabled</StatusIndicator>),
          },
        ]}
        empty={applied ? `No user is named ${applied}.` : 'No users yet.'}
      />
      {creating && (
        <CreateUser
          onDone={(userId) => {
            setCreating(false);
            if (userId) navigate(`/users/${userId}`);
            else reload();
          }}
        />
      )}
    </SpaceBetween>
  );
}

const FIELDS = ['UserName', 'DisplayName', 'GivenName', 'FamilyName', 'Email'] as const;
type Field = (typeof FIELDS)[number];
/** What IAM Identity Center requires of a new user (the display name defaults to the names). */
const REQUIRED: Partial<Record<Field, string>> = { UserName: 'Enter a user name.', GivenName: 'Enter a first name.', FamilyName: 'Enter a last name.' };

function CreateUser({ onDone }: { onDone: (userId?: string) => void }) {
  const { instance } = useConsole();
  const [v, setV] = useState<Record<Field, string>>({ UserName: '', DisplayName: '', GivenName: '', FamilyName: '', Email: '' });
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState<Partial<Record<Field, string>>>({});
  const [busy, setBusy] = useState(false);
  const errors: Partial<Record<Field, string>> = { ...fieldErrors(error, FIELDS, USER_FIELD_PATHS), ...missing };
  const submit = async () => {
    setError(undefined);
    const problems = missingFields(v, REQUIRED, 'Email');
    setMissing(problems);
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    try {
      const r = await aws<{ UserId: string }>('identitystore', 'CreateUser', {
        IdentityStoreId: instance.IdentityStoreId,
        UserName: v.UserName.trim(),
        DisplayName: v.DisplayName || `${v.GivenName} ${v.FamilyName}`.trim(),
        Name: { GivenName: v.GivenName, FamilyName: v.FamilyName },
        ...(v.Email ? { Emails: [{ Value: v.Email.trim(), Type: 'work', Primary: true }] } : {}),
      });
      onDone(r.UserId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const field = (name: Field, label: string, type: 'text' | 'email' = 'text') => (
    <FormField key={name} label={label} constraintText={REQUIRED[name] ? 'Required.' : undefined} errorText={errors[name]}>
      <Input value={v[name]} type={type} onChange={({ detail }) => setV({ ...v, [name]: detail.value })} ariaLabel={label} />
    </FormField>
  );
  return (
    <Dialog header="Add user" busy={busy} submitText="Add user" onSubmit={() => void submit()} onCancel={() => onDone()} error={error && !Object.keys(errors).length ? messageOf(error) : undefined}>
      {field('UserName', 'Username')}
      {field('GivenName', 'First name')}
      {field('FamilyName', 'Last name')}
      {field('DisplayName', 'Display name')}
      {field('Email', 'Email address', 'email')}
    </Dialog>
  );
}
