// Groups: the list (paged, and filtered by exact name, on the server) and "Create group".

import Button from '@cloudscape-design/components/button';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import { aws, type Group } from '../api.js';
import { directoryPage, NameFilter, useServerPages } from '../paging.js';
import { ConsoleLink, Dialog, Failed, fieldErrors } from '../parts.js';
import { useConsole } from '../shell.js';

export default function Groups() {
  const { instance, canWrite, navigate } = useConsole();
  const [applied, setApplied] = useState('');
  const [creating, setCreating] = useState(false);
  const { page: groups, items, pagination } = useServerPages((NextToken, MaxResults) => directoryPage<Group>('Groups', instance.IdentityStoreId, applied, NextToken, MaxResults), [applied]);
  return (
    <SpaceBetween size="l">
      {groups.state === 'failed' && <Failed message={groups.message} />}
      <Table<Group>
        variant="full-page"
        loading={groups.state === 'loading'}
        loadingText="Loading groups"
        items={items}
        trackBy="GroupId"
        header={
          <Header variant="awsui-h1-sticky" actions={canWrite && <Button variant="primary" onClick={() => setCreating(true)}>Create group</Button>}>
            Groups
          </Header>
        }
        filter={
          <NameFilter label="Find a group by exact name" onApply={setApplied} />
        }
        pagination={pagination}
        columnDefinitions={[
          {
            id: 'name',
            header: 'Group name',
            cell: (g) => (
              <ConsoleLink to={`/groups/${g.GroupId}`}>{g.DisplayName ?? g.GroupId}</ConsoleLink>
            ),
          },
          { id: 'description', header: 'Description', cell: (g) => g.Description ?? '-' },
        ]}
        empty={applied ? `No group is named ${applied}.` : 'No groups yet.'}
      />
      {creating && <CreateGroup onDone={(groupId) => (setCreating(false), groupId && navigate(`/groups/${groupId}`))} />}
    </SpaceBetween>
  );
}

function CreateGroup({ onDone }: { onDone: (groupId?: string) => void }) {
  const { instance } = useConsole();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error, ['DisplayName', 'Description']);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await aws<{ GroupId: string }>('identitystore', 'CreateGroup', { IdentityStoreId: instance.IdentityStoreId, DisplayName: name, ...(description ? { Description: description } : {}) });
      onDone(r.GroupId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog header="Create group" busy={busy} submitText="Create group" onSubmit={() => void submit()} onCancel={() => onDone()}>
      <FormField label="Group name" errorText={errors.DisplayName}>
        <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Group name" />
      </FormField>
      <FormField label="Description - optional" errorText={errors.Description}>
        <Input value={description} onChange={({ detail }) => setDescription(detail.value)} ariaLabel="Description" />
      </FormField>
    </Dialog>
  );
}
