// One group: edit its name and description, delete it, add and remove members, and its
// account assignments. Members are paged on the server, and found by exact user name.

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import Table from '@cloudscape-design/components/table';
import { useState } from 'react';
import { AwsError, aws, messageOf, type Group } from '../api.js';
import { forgetName, namedAssignments, userName } from '../names.js';
import { NameFilter, useServerPages } from '../paging.js';
import { ConsoleLink, EditActions, Failed, fieldErrors, InlineForm, KeyValue, RowAction, useLoad } from '../parts.js';
import { isMissing, NotFound } from '../not-found.js';
import { useConsole } from '../shell.js';

interface Member {
  MembershipId: string;
  MemberId: { UserId?: string };
}

/** The membership of the user named `name` in the group, if they are a member. */
async function memberNamed(IdentityStoreId: string, GroupId: string, name: string) {
  try {
    const { UserId } = await aws<{ UserId: string }>('identitystore', 'GetUserId', { IdentityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: name } } });
    const { MembershipId } = await aws<{ MembershipId: string }>('identitystore', 'GetGroupMembershipId', { IdentityStoreId, GroupId, MemberId: { UserId } });
    return [{ MembershipId, userId: UserId, userName: name }];
  } catch (err) {
    if (err instanceof AwsError && err.type === 'ResourceNotFoundException') return [];
    throw err;
  }
}

export default function GroupDetail({ id }: { id: string }) {
  const { instance, canWrite, navigate } = useConsole();
  const IdentityStoreId = instance.IdentityStoreId;
  const [group, reload] = useLoad(() => aws<Group>('identitystore', 'DescribeGroup', { IdentityStoreId, GroupId: id }), [id]);
  const [findMember, setFindMember] = useState('');
  const { page: members, items: memberItems, reload: reloadMembers, pagination: memberPages } = useServerPages(
    async (NextToken, MaxResults) => {
      if (findMember) return { items: await memberNamed(IdentityStoreId, id, findMember) };
      const r = await aws<{ GroupMemberships: Member[]; NextToken?: string }>('identitystore', 'ListGroupMemberships', { IdentityStoreId, GroupId: id, MaxResults, NextToken });
      const users = r.GroupMemberships.filter((m) => m.MemberId.UserId);
      return { items: await Promise.all(users.map(async (m) => ({ MembershipId: m.MembershipId, userId: m.MemberId.UserId!, userName: await userName(IdentityStoreId, m.MemberId.UserId!) }))), nextToken: r.NextToken };
    },
    [id, findMember],
  );
  const [assignments] = useLoad(() => namedAssignments(instance.InstanceArn, 'GROUP', id), [id]);
  const [editing, setEditing] = useState(false);
  const [newMember, setNewMember] = useState('');
  const [memberError, setMemberError] = useState<string>();
  const [actionError, setActionError] = useState<string>();

  if (group.state === 'loading') return <Spinner size="large" />;
  if (group.state === 'failed') return isMissing(group.error) ? <NotFound message={`No group has the id ${id}.`} back={{ to: '/groups', text: 'Go to Groups' }} /> : <Failed message={group.message} />;
  const g = group.value;

  const addMember = async () => {
    setMemberError(undefined);
    try {
      const { UserId } = await aws<{ UserId: string }>('identitystore', 'GetUserId', {
        IdentityStoreId,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: newMember.trim() } },
      });
      await aws('identitystore', 'CreateGroupMembership', { IdentityStoreId, GroupId: id, MemberId: { UserId } });
      setNewMember('');
      reloadMembers();
    } catch (err) {
      setMemberError(messageOf(err));
    }
  };
  const removeMember = async (membershipId: string) => {
    setMemberError(undefined);
    try {
      await aws('identitystore', 'DeleteGroupMembership', { IdentityStoreId, MembershipId: membershipId });
      reloadMembers();
    } catch (err) {
      setMemberError(messageOf(err));
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the group ${g.DisplayName}? Its members lose the access it gave them.`)) return;
    try {
      await aws('identitystore', 'DeleteGroup', { IdentityStoreId, GroupId: id });
      navigate('/groups');
    } catch (err) {
      setActionError(messageOf(err));
    }
  };

  return (
    <ContentLayout
      header={
        <Header variant="h1" description={g.GroupId} actions={canWrite && <Button onClick={() => void remove()}>Delete group</Button>}>
          {g.DisplayName}
        </Header>
      }
    >
      <SpaceBetween size="l">
        {actionError && <Alert type="error">{actionError}</Alert>}
        <Container header={<Header variant="h2" actions={canWrite && !editing && <Button onClick={() => setEditing(true)}>Edit</Button>}>Group details</Header>}>
          {editing ? (
            <EditGroup group={g} onDone={(changed) => (setEditing(false), changed && (forgetName(id), reload()))} />
          ) : (
            <ColumnLayout columns={2} variant="text-grid">
              <KeyValue label="Group name">{g.DisplayName}</KeyValue>
              <KeyValue label="Description">{g.Description ?? '-'}</KeyValue>
            </ColumnLayout>
          )}
        </Container>
        <Table
          header={<Header variant="h2">Users in this group</Header>}
          loading={members.state === 'loading'}
          loadingText="Loading members"
          items={memberItems}
          pagination={memberPages}
          filter={
            <SpaceBetween size="s">
              {canWrite && (
                <InlineForm onSubmit={() => void addMember()} submitText="Add user">
                  <FormField label="Add a user by username" errorText={memberError}>
                    <Input value={newMember} onChange={({ detail }) => setNewMember(detail.value)} ariaLabel="Username to add" />
                  </FormField>
                </InlineForm>
              )}
              <NameFilter label="Find a member by exact user name" onApply={setFindMember} />
            </SpaceBetween>
          }
          columnDefinitions={[
            {
              id: 'user',
              header: 'Username',
              cell: (m) => (
                <ConsoleLink to={`/users/${m.userId}`}>{m.userName}</ConsoleLink>
              ),
            },
            {
              id: 'remove',
              header: 'Actions',
              cell: (m) => <RowAction label="Remove" ariaLabel={`Remove ${m.userName} from the group`} onClick={() => void removeMember(m.MembershipId)} />,
            },
          ]}
          empty={members.state === 'failed' ? members.message : findMember ? `${findMember} is not a member.` : 'No users in this group.'}
        />
        <Table
          header={<Header variant="h2">AWS account assignments</Header>}
          loading={assignments.state === 'loading'}
          loadingText="Loading assignments"
          items={assignments.state === 'ready' ? assignments.value : []}
          columnDefinitions={[
            { id: 'account', header: 'AWS account', cell: (a) => `${a.accountName} (${a.AccountId})` },
            { id: 'ps', header: 'Permission set', cell: (a) => a.permissionSetName },
          ]}
          empty={assignments.state === 'failed' ? assignments.message : 'No assignments.'}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}

function EditGroup({ group, onDone }: { group: Group; onDone: (changed: boolean) => void }) {
  const { instance } = useConsole();
  const [name, setName] = useState(group.DisplayName ?? '');
  const [description, setDescription] = useState(group.Description ?? '');
  const [error, setError] = useState<unknown>();
  const errors = fieldErrors(error, ['DisplayName', 'Description']);
  const save = async () => {
    setError(undefined);
    try {
      await aws('identitystore', 'UpdateGroup', {
        IdentityStoreId: instance.IdentityStoreId,
        GroupId: group.GroupId,
        Operations: [{ AttributePath: 'displayName', AttributeValue: name }, description ? { AttributePath: 'description', AttributeValue: description } : { AttributePath: 'description' }],
      });
      onDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void save())}>
      <Form
        actions={<EditActions onCancel={() => onDone(false)} />}
      >
        <SpaceBetween size="m">
          <FormField label="Group name" errorText={errors.DisplayName}>
            <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Group name" />
          </FormField>
          <FormField label="Description" errorText={errors.Description}>
            <Input value={description} onChange={({ detail }) => setDescription(detail.value)} ariaLabel="Description" />
          </FormField>
        </SpaceBetween>
      </Form>
    </form>
  );
}
