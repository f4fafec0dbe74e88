// The identitystore API as the real JS SDK sees it: all 19 operations, AWS's errors, atomic
// updates, pagination, and the audit trail of every change, on each dialect.

import { randomUUID } from 'node:crypto';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupMembershipCommand,
  DeleteUserCommand,
  DescribeGroupCommand,
  DescribeGroupMembershipCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ListGroupMembershipsCommand,
  ListGroupMembershipsForMemberCommand,
  ListGroupsCommand,
  ListUsersCommand,
  UpdateGroupCommand,
  UpdateUserCommand,
  type CreateUserCommandInput,
} from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const MISSING_ID = '0123456789-00000000-0000-4000-8000-000000000000';

interface AwsFailure {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
  [field: string]: unknown;
}

/** What a failed call rejected with, for asserting name, status and fields together. */
async function failure(call: Promise<unknown>): Promise<AwsFailure> {
  try {
    await call;
  } catch (err) {
    return err as AwsFailure;
  }
  throw new Error('expected the call to fail');
}

describe.each(dialects())('identitystore on %s', (dialect) => {
  let server: TestServer;
  let client: IdentitystoreClient;
  let storeId: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    client = new IdentitystoreClient(sdkOptions(server));
    storeId = server.init.identityStoreId;
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  const userInput = (userName = unique('user'), extra: Partial<CreateUserCommandInput> = {}): CreateUserCommandInput => ({
    IdentityStoreId: storeId,
    UserName: userName,
    DisplayName: 'Jane Doe',
    Name: { GivenName: 'Jane', FamilyName: 'Doe' },
    ...extra,
  });
  const createUser = async (userName?: string, extra?: Partial<CreateUserCommandInput>) =>
    (await client.send(new CreateUserCommand(userInput(userName, extra)))).UserId!;
  const createGroup = async (displayName = unique('group')) =>
    (await client.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: displayName }))).GroupId!;
  const usersNamed = async (userName: string) =>
    (await client.send(new ListUsersCommand({ IdentityStoreId: storeId, Filters: [{ AttributePath: 'UserName', AttributeValue: userName }] }))).Users!;
  it('treats built-in object names (constructor, __proto__) as the unknown names they are', async () => {
    const userId = await createUser();
    for (const AttributePath of ['Constructor', '__proto__', 'toString']) {
      await expect(
        client.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath, AttributeValue: 'anything-at-all' } } })),
      ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    }
    for (const name of ['__proto__', 'constructor']) {
      await expect(client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: userId, Extensions: [name] }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
    }
    await expect(
      client.send(new UpdateUserCommand({ IdentityStoreId: storeId, UserId: userId, Operations: [{ AttributePath: 'name', AttributeValue: { constructor: 'x', givenName: 'J', familyName: 'D' } }] })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  const auditOf = (requestId: string | undefined) =>
    server.reg.database.db.selectFrom('audit_events').selectAll().where('request_id', '=', requestId!).orderBy('seq').execute();

  /** A client whose every request body is changed after serialisation and before signing. */
  function clientEditingBody(edit: (body: Record<string, unknown>) => void): IdentitystoreClient {
    const c = new IdentitystoreClient(sdkOptions(server));
    c.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string; headers: Record<string, string> };
        const body = JSON.parse(request.body) as Record<string, unknown>;
        edit(body);
        request.body = JSON.stringify(body);
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'build' },
    );
    return c;
  }

  describe('users', () => {
    it('creates a user with every attribute and describes it back', async () => {
      const userName = unique('Full.User');
      const out = await client.send(
        new CreateUserCommand(
          userInput(userName, {
            Name: { GivenName: 'Jane', FamilyName: 'Doe', MiddleName: 'Q', Formatted: 'Dr. Jane Q. Doe', HonorificPrefix: 'Dr.' },
            NickName: 'JD',
            ProfileUrl: 'https://example.com/jane',
            Emails: [
              { Value: 'jane@example.com', Type: 'work', Primary: true },
              { Value: 'jane@home.example', Type: 'home' },
            ],
            Addresses: [{ StreetAddress: '1 Main St', Locality: 'Springfield', Country: 'US', Primary: true }],
            PhoneNumbers: [{ Value: '+1 555 0100', Type: 'mobile' }],
            UserType: 'Employee',
            Title: 'Engineer',
            PreferredLanguage: 'en-US',
            Locale: 'en_US',
            Timezone: 'America/New_York',
            Photos: [{ Value: 'https://example.com/jane.png', Display: 'Jane', Primary: true }],
            Website: 'https://jane.example',
            Birthdate: '1990-01-31',
            Roles: [{ Value: 'Researcher', Primary: true }],
            Extensions: { 'aws:identitystore:enterprise': { employeeNumber: '42', department: 'R&D' } },
          }),
        ),
      );
      expect(out.IdentityStoreId).toBe(storeId);
      expect(out.UserId).toMatch(new RegExp(`^${storeId.slice(2)}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));

      const user = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: out.UserId }));
      expect(user).toMatchObject({
        IdentityStoreId: storeId,
        UserId: out.UserId,
        UserName: userName,
        DisplayName: 'Jane Doe',
        Name: { GivenName: 'Jane', FamilyName: 'Doe', MiddleName: 'Q', Formatted: 'Dr. Jane Q. Doe', HonorificPrefix: 'Dr.' },
        Emails: [
          { Value: 'jane@example.com', Type: 'work', Primary: true },
          { Value: 'jane@home.example', Type: 'home' },
        ],
        Addresses: [{ StreetAddress: '1 Main St', Locality: 'Springfield', Country: 'US', Primary: true }],
        PhoneNumbers: [{ Value: '+1 555 0100', Type: 'mobile' }],
        Photos: [{ Value: 'https://example.com/jane.png', Display: 'Jane', Primary: true }],
        Roles: [{ Value: 'Researcher', Primary: true }],
        Website: 'https://jane.example',
        Birthdate: '1990-01-31',
        Timezone: 'America/New_York',
        UserStatus: 'ENABLED',
        CreatedBy: expect.any(String),
      });
      expect(user.CreatedAt).toBeInstanceOf(Date);
      expect(user.ExternalIds).toBeUndefined();
      // Extensions come back only when asked for.
      expect(user.Extensions).toBeUndefined();
      const withExtension = await client.send(
        new DescribeUserCommand({ IdentityStoreId: storeId, UserId: out.UserId, Extensions: ['aws:identitystore:enterprise'] }),
      );
      expect(withExtension.Extensions).toEqual({ 'aws:identitystore:enterprise': { employeeNumber: '42', department: 'R&D' } });

      const [event] = await auditOf(out.$metadata.requestId);
      expect(event).toMatchObject({ event_name: 'CreateUser', event_source: 'identitystore.amazonaws.com', error_code: null });
      expect(JSON.parse(event!.response_elements!)).toEqual({ identityStoreId: storeId, userId: out.UserId });
      // Personal data stays out of the audit log.
      expect(event!.request_parameters).not.toContain(userName);
      expect(event!.request_parameters).not.toContain('jane@example.com');
    });

    it('records a refused CreateUser without any of its profile values', async () => {
      // Refused before the domain sees it (here by the schema, as a policy refusal is too): the
      // event keeps the parameters, with every profile attribute hidden as in the change's own event.
      const values = {
        UserName: unique('refused'),
        DisplayName: 'Refused Person',
        Name: { GivenName: 'Refusedgiven', FamilyName: 'Refusedfamily' },
        NickName: 'refused-nick',
        ProfileUrl: 'https://refused.example/profile',
        Emails: [{ Value: 'refused@example.com' }],
        Addresses: [{ StreetAddress: '9 Refused Road' }],
        PhoneNumbers: [{ Value: '+1 555 0199' }],
        UserType: 'refused-type',
        Title: 'refused-title',
        PreferredLanguage: 'refused-lang',
        Locale: 'refused-locale',
        Timezone: 'refused-zone',
        Photos: [{ Value: 'https://refused.example/me.jpg' }],
        Website: 'https://refused.example',
        Birthdate: '1980-02-03',
        Roles: [{ Value: 'refused-role' }],
        Extensions: { 'aws:identitystore:enterprise': { employeeNumber: 'refused-42' } },
      };
      const refused = await failure(client.send(new CreateUserCommand({ IdentityStoreId: 'd-not*valid', ...values })));
      expect(refused.name).toBe('ValidationException');
      const [event] = await auditOf(refused.$metadata.requestId);
      expect(event).toMatchObject({ event_name: 'CreateUser', error_code: 'ValidationException' });
      expect(event!.request_parameters).toContain('d-not*valid');
      const leaked = JSON.stringify(values).match(/"[^"]*(?:refused|Refused|1980|555)[^"]*"/g)!.filter((v) => event!.request_parameters!.includes(v.slice(1, -1)));
      expect(leaked).toEqual([]);
    });

    it('refuses a UserName that differs only in case, with a ConflictException and an audit event', async () => {
      const userName = unique('Case.Sensitive');
      await createUser(userName);
      const err = await failure(client.send(new CreateUserCommand(userInput(userName.toUpperCase()))));
      expect(err).toMatchObject({ name: 'ConflictException', Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION', $metadata: { httpStatusCode: 409 } });
      expect(await usersNamed(userName)).toHaveLength(1);
      const [event] = await auditOf(err.$metadata.requestId);
      expect(event).toMatchObject({ event_name: 'CreateUser', error_code: 'directory.user_name_taken' });
    });

    it.each([
      ['a UserName that is too long', userInputFor({ UserName: 'x'.repeat(129) })],
      ['no DisplayName', userInputFor({ DisplayName: undefined })],
      ['no UserName', userInputFor({ UserName: undefined })],
      ['no GivenName', userInputFor({ Name: { FamilyName: 'Doe' } })],
      ['two primary emails', userInputFor({ Emails: [{ Value: 'a@example.com', Primary: true }, { Value: 'b@example.com', Primary: true }] })],
      ['a reserved UserName', userInputFor({ UserName: 'administrator' })],
      ['an unknown extension', userInputFor({ Extensions: { 'aws:identitystore:other': {} } })],
    ])('refuses %s with a ValidationException and writes nothing', async (_label, build) => {
      const input = build(storeId);
      const err = await failure(client.send(new CreateUserCommand(input)));
      expect(err).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      if (input.UserName && input.UserName.length <= 128 && input.UserName !== 'administrator') {
        expect(await usersNamed(input.UserName)).toHaveLength(0);
      }
      // The refusal is on the record, without the person's data (as a CreateUser that succeeds).
      const [event] = await auditOf(err.$metadata.requestId);
      expect(event).toMatchObject({ event_name: 'CreateUser', error_code: expect.stringMatching(/ValidationException|invalid/) });
      if (input.UserName) expect(event!.request_parameters).not.toContain(input.UserName);
      for (const e of input.Emails ?? []) expect(event!.request_parameters).not.toContain(e.Value!);
      expect(event!.request_parameters).toContain(storeId);
    });

    it('refuses a request with an unknown field', async () => {
      const userName = unique('unknown-field');
      const sneaky = clientEditingBody((body) => (body.Password = 'hunter2'));
      const err = await failure(sneaky.send(new CreateUserCommand(userInput(userName))));
      sneaky.destroy();
      expect(err).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Password'), $metadata: { httpStatusCode: 400 } });
      expect(await usersNamed(userName)).toHaveLength(0);
    });

    it('answers an unknown identity store and unknown users with ResourceNotFoundException', async () => {
      const store = await failure(client.send(new ListUsersCommand({ IdentityStoreId: 'd-0000000000' })));
      expect(store).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'IDENTITY_STORE', $metadata: { httpStatusCode: 404 } });
      for (const call of [
        () => client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: MISSING_ID })),
        () => client.send(new DeleteUserCommand({ IdentityStoreId: storeId, UserId: MISSING_ID })),
        () => client.send(new UpdateUserCommand({ IdentityStoreId: storeId, UserId: MISSING_ID, Operations: [{ AttributePath: 'title', AttributeValue: 'x' }] })),
      ]) {
        expect(await failure(call())).toMatchObject({
          name: 'ResourceNotFoundException',
          ResourceType: 'USER',
          ResourceId: MISSING_ID,
          $metadata: { httpStatusCode: 404 },
        });
      }
      const missing = await failure(
        client.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: unique('nobody') } } })),
      );
      expect(missing).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'USER' });
    });

    it('pages through every user exactly once, and refuses a bad NextToken', async () => {
      const created = new Set<string>();
      for (let i = 0; i < 7; i++) created.add(await createUser());
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(new ListUsersCommand({ IdentityStoreId: storeId, MaxResults: 3, NextToken: token }));
        expect(page.Users!.length).toBeLessThanOrEqual(3);
        seen.push(...page.Users!.map((u) => u.UserId!));
        token = page.NextToken;
        pages++;
      } while (token);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of created) expect(seen).toContain(id);

      const err = await failure(client.send(new ListUsersCommand({ IdentityStoreId: storeId, NextToken: 'bm90LWEtdG9rZW4=' })));
      expect(err).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    });

    it('filters ListUsers by UserName without regard to case, and only by UserName', async () => {
      const userName = unique('Filter.Me');
      const userId = await createUser(userName);
      const found = await usersNamed(userName.toLowerCase());
      expect(found.map((u) => u.UserId)).toEqual([userId]);
      expect(found[0]).toMatchObject({ UserName: userName, DisplayName: 'Jane Doe' });
      const err = await failure(
        client.send(new ListUsersCommand({ IdentityStoreId: storeId, Filters: [{ AttributePath: 'Title', AttributeValue: 'x' }] })),
      );
      expect(err).toMatchObject({ name: 'ValidationException' });
    });

    it('finds a user id by UserName, primary email and external id', async () => {
      const userName = unique('Lookup');
      const email = `${userName}@Example.com`;
      const userId = await createUser(userName, { Emails: [{ Value: email, Primary: true }] });
      const byName = await client.send(
        new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: userName.toUpperCase() } } }),
      );
      expect(byName).toMatchObject({ UserId: userId, IdentityStoreId: storeId });
      const byEmail = await client.send(
        new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email.toLowerCase() } } }),
      );
      expect(byEmail.UserId).toBe(userId);

      // External ids are set by SCIM provisioning, which goes through the same domain call.
      const externalId = { issuer: 'https://idp.example.com', id: randomUUID() };
      const scimUserId = await server.reg.directory.createUser(systemContext('scim', 'us-east-1', randomUUID()), storeId, {
        profile: { userName: unique('scim'), displayName: 'S', name: { givenName: 'S', familyName: 'C' } },
        externalIds: [externalId],
      });
      const byExternalId = await client.send(
        new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { ExternalId: { Issuer: externalId.issuer, Id: externalId.id } } }),
      );
      expect(byExternalId.UserId).toBe(scimUserId);
      const described = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: scimUserId }));
      expect(described.ExternalIds).toEqual([{ Issuer: externalId.issuer, Id: externalId.id }]);

      const both = clientEditingBody((body) => {
        (body.AlternateIdentifier as Record<string, unknown>).ExternalId = { Issuer: 'x', Id: 'y' };
      });
      const err = await failure(
        both.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: userName } } })),
      );
      both.destroy();
      expect(err).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('AlternateIdentifier'), $metadata: { httpStatusCode: 400 } });
      const badPath = await failure(
        client.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'title', AttributeValue: 'x' } } })),
      );
      expect(badPath).toMatchObject({ name: 'ValidationException' });
    });

    it('applies several UpdateUser operations together, and none when one is bad', async () => {
      const userId = await createUser(undefined, { NickName: 'Nick', Title: 'Intern' });
      const updated = await client.send(
        new UpdateUserCommand({
          IdentityStoreId: storeId,
          UserId: userId,
          Operations: [
            { AttributePath: 'displayName', AttributeValue: 'Janet Doe' },
            { AttributePath: 'name.givenName', AttributeValue: 'Janet' },
            { AttributePath: 'emails', AttributeValue: [{ value: 'janet@example.com', type: 'work', primary: true }] },
            { AttributePath: 'nickName' },
          ],
        }),
      );
      let user = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: userId }));
      expect(user).toMatchObject({
        DisplayName: 'Janet Doe',
        Name: { GivenName: 'Janet', FamilyName: 'Doe' },
        Emails: [{ Value: 'janet@example.com', Type: 'work', Primary: true }],
        Title: 'Intern',
      });
      expect(user.NickName).toBeUndefined();
      expect((await auditOf(updated.$metadata.requestId))[0]).toMatchObject({ event_name: 'UpdateUser', error_code: null });

      for (const bad of [
        [{ AttributePath: 'title', AttributeValue: 'Manager' }, { AttributePath: 'name.givenName', AttributeValue: 'x'.repeat(1025) }],
        [{ AttributePath: 'title', AttributeValue: 'Manager' }, { AttributePath: 'favouriteColour', AttributeValue: 'blue' }],
        [{ AttributePath: 'title', AttributeValue: 'Manager' }, { AttributePath: 'displayName' }],
        [{ AttributePath: 'title', AttributeValue: 42 }],
        [{ AttributePath: 'emails', AttributeValue: [{ value: 'a@x.com', primary: true }, { value: 'b@x.com', primary: true }] }],
      ]) {
        const err = await failure(client.send(new UpdateUserCommand({ IdentityStoreId: storeId, UserId: userId, Operations: bad })));
        expect(err).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      }
      user = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: userId }));
      expect(user.Title).toBe('Intern');
      expect(user.DisplayName).toBe('Janet Doe');
    });

    it('refuses renaming a user to a taken UserName', async () => {
      const taken = unique('Taken');
      await createUser(taken);
      const userName = unique('Renamed');
      const userId = await createUser(userName);
      const err = await failure(
        client.send(new UpdateUserCommand({ IdentityStoreId: storeId, UserId: userId, Operations: [{ AttributePath: 'userName', AttributeValue: taken.toLowerCase() }] })),
      );
      expect(err).toMatchObject({ name: 'ConflictException', Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION', $metadata: { httpStatusCode: 409 } });
      expect((await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: userId }))).UserName).toBe(userName);
      // A rename to a new name, differing only in case from the old one, is fine.
      await client.send(
        new UpdateUserCommand({ IdentityStoreId: storeId, UserId: userId, Operations: [{ AttributePath: 'userName', AttributeValue: userName.toUpperCase() }] }),
      );
      expect((await usersNamed(userName))[0]?.UserName).toBe(userName.toUpperCase());
    });

    it('deletes a user together with its memberships', async () => {
      const userId = await createUser();
      const groupId = await createGroup();
      const { MembershipId } = await client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: userId } }));
      const deleted = await client.send(new DeleteUserCommand({ IdentityStoreId: storeId, UserId: userId }));
      expect((await auditOf(deleted.$metadata.requestId))[0]).toMatchObject({ event_name: 'DeleteUser', error_code: null });
      expect(await failure(client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: userId })))).toMatchObject({
        name: 'ResourceNotFoundException',
      });
      expect(await failure(client.send(new DescribeGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId })))).toMatchObject({
        name: 'ResourceNotFoundException',
        ResourceType: 'GROUP_MEMBERSHIP',
      });
      const members = await client.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId }));
      expect(members.GroupMemberships).toEqual([]);
      expect(await server.reg.directory.principalExists(storeId, 'USER', userId)).toBe(false);
    });
  });

  describe('groups', () => {
    it('creates, describes, updates, finds and deletes a group', async () => {
      const displayName = unique('Engineers');
      const created = await client.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: displayName, Description: 'All engineers' }));
      const groupId = created.GroupId!;
      expect(groupId.startsWith(`${storeId.slice(2)}-`)).toBe(true);
      expect(await client.send(new DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: groupId }))).toMatchObject({
        GroupId: groupId,
        DisplayName: displayName,
        Description: 'All engineers',
        IdentityStoreId: storeId,
      });

      const dup = await failure(client.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: displayName.toUpperCase() })));
      expect(dup).toMatchObject({ name: 'ConflictException', Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION', $metadata: { httpStatusCode: 409 } });
      expect((await auditOf(dup.$metadata.requestId))[0]).toMatchObject({ event_name: 'CreateGroup', error_code: 'directory.group_name_taken' });

      const renamed = unique('Builders');
      await client.send(
        new UpdateGroupCommand({
          IdentityStoreId: storeId,
          GroupId: groupId,
          Operations: [{ AttributePath: 'displayName', AttributeValue: renamed }, { AttributePath: 'description' }],
        }),
      );
      const after = await client.send(new DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: groupId }));
      expect(after.DisplayName).toBe(renamed);
      expect(after.Description).toBeUndefined();
      const bad = await failure(
        client.send(new UpdateGroupCommand({ IdentityStoreId: storeId, GroupId: groupId, Operations: [{ AttributePath: 'members', AttributeValue: [] }] })),
      );
      expect(bad).toMatchObject({ name: 'ValidationException' });

      const listed = await client.send(
        new ListGroupsCommand({ IdentityStoreId: storeId, Filters: [{ AttributePath: 'DisplayName', AttributeValue: renamed.toLowerCase() }] }),
      );
      expect(listed.Groups!.map((g) => g.GroupId)).toEqual([groupId]);
      const found = await client.send(
        new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: renamed } } }),
      );
      expect(found.GroupId).toBe(groupId);

      await client.send(new DeleteGroupCommand({ IdentityStoreId: storeId, GroupId: groupId }));
      for (const call of [
        () => client.send(new DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: groupId })),
        () => client.send(new DeleteGroupCommand({ IdentityStoreId: storeId, GroupId: groupId })),
        () => client.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId })),
      ]) {
        expect(await failure(call())).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'GROUP', ResourceId: groupId, $metadata: { httpStatusCode: 404 } });
      }
      expect(
        await failure(
          client.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: renamed } } })),
        ),
      ).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'GROUP' });
    });

    it('refuses a group without a DisplayName or with a reserved one', async () => {
      for (const DisplayName of [undefined, 'AWSAdministrators']) {
        const err = await failure(client.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName })));
        expect(err).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      }
    });

    it('pages through groups', async () => {
      for (let i = 0; i < 4; i++) await createGroup();
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListGroupsCommand({ IdentityStoreId: storeId, MaxResults: 2, NextToken: token }));
        seen.push(...page.Groups!.map((g) => g.GroupId!));
        token = page.NextToken;
      } while (token);
      expect(seen.length).toBeGreaterThanOrEqual(4);
      expect(new Set(seen).size).toBe(seen.length);
    });
  });

  describe('group memberships', () => {
    it('creates, finds, lists, checks and deletes memberships', async () => {
      const groupId = await createGroup();
      const otherGroupId = await createGroup();
      const userIds = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
      const membershipIds: string[] = [];
      for (const userId of userIds) {
        const out = await client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: userId } }));
        expect(out.IdentityStoreId).toBe(storeId);
        membershipIds.push(out.MembershipId!);
      }
      const [firstUser] = userIds as [string];
      const [firstMembership] = membershipIds as [string];
      await client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: otherGroupId, MemberId: { UserId: firstUser } }));

      const dup = await failure(client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: firstUser } })));
      expect(dup).toMatchObject({ name: 'ConflictException', Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION', $metadata: { httpStatusCode: 409 } });
      expect(
        await failure(client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: MISSING_ID, MemberId: { UserId: firstUser } }))),
      ).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'GROUP', ResourceId: MISSING_ID });
      expect(
        await failure(client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: MISSING_ID } }))),
      ).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'USER', ResourceId: MISSING_ID });

      const described = await client.send(new DescribeGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId: firstMembership }));
      expect(described).toMatchObject({ IdentityStoreId: storeId, MembershipId: firstMembership, GroupId: groupId, MemberId: { UserId: firstUser } });
      const id = await client.send(new GetGroupMembershipIdCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: firstUser } }));
      expect(id.MembershipId).toBe(firstMembership);

      const listed: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId, MaxResults: 2, NextToken: token }));
        expect(page.GroupMemberships!.length).toBeLessThanOrEqual(2);
        listed.push(...page.GroupMemberships!.map((m) => m.MemberId!.UserId!));
        token = page.NextToken;
      } while (token);
      expect(listed.sort()).toEqual([...userIds].sort());

      const forMember = await client.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: firstUser } }));
      expect(forMember.GroupMemberships!.map((m) => m.GroupId).sort()).toEqual([groupId, otherGroupId].sort());
      expect((await server.reg.directory.listGroupIdsForUser(storeId, firstUser)).sort()).toEqual([groupId, otherGroupId].sort());

      const lonelyGroup = await createGroup();
      const check = await client.send(
        new IsMemberInGroupsCommand({ IdentityStoreId: storeId, MemberId: { UserId: firstUser }, GroupIds: [groupId, lonelyGroup, MISSING_ID] }),
      );
      expect(check.Results).toEqual([
        { GroupId: groupId, MemberId: { UserId: firstUser }, MembershipExists: true },
        { GroupId: lonelyGroup, MemberId: { UserId: firstUser }, MembershipExists: false },
        { GroupId: MISSING_ID, MemberId: { UserId: firstUser }, MembershipExists: false },
      ]);

      const deleted = await client.send(new DeleteGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId: firstMembership }));
      expect((await auditOf(deleted.$metadata.requestId))[0]).toMatchObject({ event_name: 'DeleteGroupMembership', error_code: null });
      for (const call of [
        () => client.send(new DescribeGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId: firstMembership })),
        () => client.send(new DeleteGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId: firstMembership })),
      ]) {
        expect(await failure(call())).toMatchObject({
          name: 'ResourceNotFoundException',
          ResourceType: 'GROUP_MEMBERSHIP',
          ResourceId: firstMembership,
          $metadata: { httpStatusCode: 404 },
        });
      }
      expect(
        await failure(client.send(new GetGroupMembershipIdCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: firstUser } }))),
      ).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'GROUP_MEMBERSHIP' });
    });

    it('answers membership questions about an unknown user with ResourceNotFoundException', async () => {
      const groupId = await createGroup();
      for (const call of [
        () => client.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: MISSING_ID } })),
        () => client.send(new IsMemberInGroupsCommand({ IdentityStoreId: storeId, MemberId: { UserId: MISSING_ID }, GroupIds: [groupId] })),
      ]) {
        expect(await failure(call())).toMatchObject({ name: 'ResourceNotFoundException', ResourceType: 'USER', $metadata: { httpStatusCode: 404 } });
      }
    });

    it('deletes a group together with its memberships', async () => {
      const userId = await createUser();
      const groupId = await createGroup();
      const { MembershipId } = await client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: groupId, MemberId: { UserId: userId } }));
      await client.send(new DeleteGroupCommand({ IdentityStoreId: storeId, GroupId: groupId }));
      expect(await failure(client.send(new DescribeGroupMembershipCommand({ IdentityStoreId: storeId, MembershipId })))).toMatchObject({
        name: 'ResourceNotFoundException',
      });
      const forMember = await client.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: userId } }));
      expect(forMember.GroupMemberships).toEqual([]);
      expect(await server.reg.directory.principalExists(storeId, 'GROUP', groupId)).toBe(false);
    });

    it('keeps AWS shape beside nested groups (set through SCIM): direct user memberships only', async () => {
      const userId = await createUser();
      const [parent, child] = [await createGroup(), await createGroup()];
      await client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: child, MemberId: { UserId: userId } }));
      // Nested as SCIM nests it: through the directory, which identitystore shares.
      await server.reg.directory.replaceGroup(
        systemContext('scim', 'us-east-1', randomUUID()),
        storeId,
        parent,
        (current) => ({ profile: { ...current.profile }, externalIds: current.externalIds, addMembers: [child], removeMembers: [] }),
        { readMembers: [child] },
      );
      expect(await server.reg.directory.listGroupIdsForUser(storeId, userId)).toEqual([parent, child].sort());

      // A group id is not a UserId, and the nested group is no membership of the parent.
      expect(await failure(client.send(new CreateGroupMembershipCommand({ IdentityStoreId: storeId, GroupId: parent, MemberId: { UserId: child } })))).toMatchObject({
        name: 'ResourceNotFoundException',
        ResourceType: 'USER',
      });
      expect((await client.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: parent }))).GroupMemberships).toEqual([]);
      const forMember = await client.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: userId } }));
      expect(forMember.GroupMemberships!.map((m) => m.GroupId)).toEqual([child]);
      const checked = await client.send(new IsMemberInGroupsCommand({ IdentityStoreId: storeId, MemberId: { UserId: userId }, GroupIds: [parent, child] }));
      expect(checked.Results!.map((r) => r.MembershipExists)).toEqual([false, true]);

      // DeleteGroup of the nested group takes it out of its parent.
      await client.send(new DeleteGroupCommand({ IdentityStoreId: storeId, GroupId: child }));
      expect(await server.reg.directory.listGroupIdsForUser(storeId, userId)).toEqual([]);
      expect(await server.reg.directory.listAllGroupMembers(storeId, parent)).toEqual([]);
    });
  });
});

/** CreateUser input with overrides, built once the identity store id is known. */
function userInputFor(overrides: Partial<CreateUserCommandInput>) {
  return (identityStoreId: string): CreateUserCommandInput => ({
    IdentityStoreId: identityStoreId,
    UserName: unique('invalid'),
    DisplayName: 'Jane Doe',
    Name: { GivenName: 'Jane', FamilyName: 'Doe' },
    ...overrides,
  });
}
