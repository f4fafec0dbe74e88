// sso-admin permission sets as the real JS SDK sees them: lifecycle, validation, inline policy,
// managed and customer-managed policies and their limit, permissions boundary, tags, access
// control attributes, and the audit trail of changes and refusals.

import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  CreateInstanceAccessControlAttributeConfigurationCommand,
  CreatePermissionSetCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeleteInstanceAccessControlAttributeConfigurationCommand,
  DeletePermissionSetCommand,
  DeletePermissionsBoundaryFromPermissionSetCommand,
  DescribeInstanceAccessControlAttributeConfigurationCommand,
  DescribePermissionSetCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  ListTagsForResourceCommand,
  paginateListPermissionSets,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  SSOAdminClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateInstanceAccessControlAttributeConfigurationCommand,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const suffix = () => Math.random().toString(36).slice(2, 10);
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] });

describe.each(dialects())('sso-admin permission sets on %s', (dialect) => {
  let server: TestServer;
  let client: SSOAdminClient;
  let InstanceArn: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    client = new SSOAdminClient(sdkOptions(server));
    InstanceArn = server.init.instanceArn;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function newPermissionSet(extra: { Description?: string; SessionDuration?: string } = {}): Promise<string> {
    const out = await client.send(new CreatePermissionSetCommand({ InstanceArn, Name: `ps-${suffix()}`, ...extra }));
    return out.PermissionSet!.PermissionSetArn!;
  }

  async function allPermissionSets(): Promise<string[]> {
    const arns: string[] = [];
    for await (const page of paginateListPermissionSets({ client, pageSize: 3 }, { InstanceArn })) arns.push(...(page.PermissionSets ?? []));
    return arns;
  }

  async function auditRows(eventName: string) {
    return server.reg.database.db
      .selectFrom('audit_events')
      .select(['event_name', 'error_code', 'request_parameters'])
      .where('event_name', '=', eventName)
      .orderBy('seq')
      .execute();
  }

  it('creates, describes, updates, lists and deletes a permission set', async () => {
    const Name = `Admins-${suffix()}`;
    const before = Date.now();
    const created = await client.send(
      new CreatePermissionSetCommand({ InstanceArn, Name, Description: 'Full access', SessionDuration: 'PT4H', RelayState: 'https://console.aws.amazon.com/s3' }),
    );
    const arn = created.PermissionSet!.PermissionSetArn!;
    const instanceId = InstanceArn.split('/')[1];
    expect(arn).toMatch(new RegExp(`^arn:aws:sso:::permissionSet/${instanceId}/ps-[0-9a-f]{16}$`));
    expect(created.PermissionSet).toMatchObject({ Name, Description: 'Full access', SessionDuration: 'PT4H', RelayState: 'https://console.aws.amazon.com/s3' });
    expect(created.PermissionSet!.CreatedDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    await client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, SessionDuration: 'PT2H30M', Description: 'Changed' }));
    const described = await client.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }));
    expect(described.PermissionSet).toMatchObject({ Name, Description: 'Changed', SessionDuration: 'PT2H30M', RelayState: 'https://console.aws.amazon.com/s3' });
    expect(await allPermissionSets()).toContain(arn);

    await client.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }));
    await expect(client.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    expect(await allPermissionSets()).not.toContain(arn);
  });

  it('removes a description or relay state updated to an empty string (beyond AWS, which cannot remove them), leaving the rest as it was', async () => {
    const Name = `Clear-${suffix()}`;
    const created = await client.send(new CreatePermissionSetCommand({ InstanceArn, Name, Description: 'Old description', SessionDuration: 'PT4H', RelayState: 'https://console.aws.amazon.com/s3' }));
    const PermissionSetArn = created.PermissionSet!.PermissionSetArn!;
    const describe = async () => (await client.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn }))).PermissionSet!;
    await client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn, Description: '' }));
    expect(await describe()).toMatchObject({ Name, SessionDuration: 'PT4H', RelayState: 'https://console.aws.amazon.com/s3' });
    expect((await describe()).Description).toBeUndefined();
    await client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn, RelayState: '' }));
    const cleared = await describe();
    expect([cleared.Description, cleared.RelayState, cleared.SessionDuration]).toEqual([undefined, undefined, 'PT4H']);
    // A bad value is still refused as before.
    await expect(client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn, RelayState: 'no <tags>' }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('defaults the session duration to one hour and accepts 1–12 hours in ISO-8601 forms', async () => {
    const arn = await newPermissionSet();
    expect((await client.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).PermissionSet?.SessionDuration).toBe('PT1H');
    for (const SessionDuration of ['PT12H', 'PT90M', 'PT3600S']) {
      await client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, SessionDuration }));
    }
  });

  it('refuses bad names, descriptions and session durations, and stores nothing', async () => {
    const before = await allPermissionSets();
    const bad = [
      { Name: 'has space' },
      { Name: 'x'.repeat(33) },
      { Name: `ok-${suffix()}`, Description: 'bell\u0007' },
      { Name: `ok-${suffix()}`, Description: 'd'.repeat(701) },
      { Name: `ok-${suffix()}`, SessionDuration: 'PT30M' },
      { Name: `ok-${suffix()}`, SessionDuration: 'PT13H' },
      { Name: `ok-${suffix()}`, SessionDuration: 'P1D' },
      { Name: `ok-${suffix()}`, SessionDuration: 'four hours' },
    ];
    for (const input of bad) {
      await expect(client.send(new CreatePermissionSetCommand({ InstanceArn, ...input })), JSON.stringify(input)).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const arn = await newPermissionSet();
    await expect(client.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, SessionDuration: 'PT13H' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/PT1H to PT12H/),
    });
    expect((await client.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).PermissionSet?.SessionDuration).toBe('PT1H');
    expect((await allPermissionSets()).length).toBe(before.length + 1);
  });

  it('refuses a second permission set of the same name with a ConflictException, and audits both calls', async () => {
    const Name = `Dup-${suffix()}`;
    await client.send(new CreatePermissionSetCommand({ InstanceArn, Name }));
    await expect(client.send(new CreatePermissionSetCommand({ InstanceArn, Name }))).rejects.toMatchObject({
      name: 'ConflictException',
      $metadata: { httpStatusCode: 409 },
    });
    const rows = (await auditRows('CreatePermissionSet')).filter((r) => r.request_parameters?.includes(Name));
    expect(rows.map((r) => r.error_code)).toEqual([null, 'access.permission_set_exists']);
  });

  it('answers unknown instances and permission sets with ResourceNotFoundException', async () => {
    const arn = await newPermissionSet();
    const otherInstance = 'arn:aws:sso:::instance/ssoins-0000000000000000';
    await expect(client.send(new ListPermissionSetsCommand({ InstanceArn: otherInstance }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(client.send(new DescribePermissionSetCommand({ InstanceArn: otherInstance, PermissionSetArn: arn }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const missing = arn.replace(/ps-[0-9a-f]{16}$/, 'ps-0000000000000000');
    for (const command of [
      new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: missing }),
      new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: missing, Description: 'x' }),
      new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: missing }),
      new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: missing, InlinePolicy: POLICY }),
      new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: missing, ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
    ]) {
      await expect(client.send(command as never)).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    }
  });

  it('pages through permission sets with an opaque NextToken and refuses a forged one', async () => {
    await Promise.all([newPermissionSet(), newPermissionSet(), newPermissionSet()]);
    const first = await client.send(new ListPermissionSetsCommand({ InstanceArn, MaxResults: 2 }));
    expect(first.PermissionSets).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    const all = await allPermissionSets();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(first.PermissionSets!));
    await expect(client.send(new ListPermissionSetsCommand({ InstanceArn, NextToken: 'bm90LWEtdG9rZW4=' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('keeps one inline policy, validated as IAM policy JSON', async () => {
    const arn = await newPermissionSet();
    const target = { InstanceArn, PermissionSetArn: arn };
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy ?? '').toBe('');
    await client.send(new PutInlinePolicyToPermissionSetCommand({ ...target, InlinePolicy: POLICY }));
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy).toBe(POLICY);

    const refused = [
      ['malformed JSON', '{"Version": "2012-10-17", "Statement": [', /not valid JSON/],
      ['a missing Effect', JSON.stringify({ Statement: [{ Action: '*', Resource: '*' }] }), /Effect must be Allow or Deny/],
      ['a Principal', JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' } }), /Principal/],
      ['over 32,768 characters', JSON.stringify({ Statement: { Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'b'.repeat(32_800)}` } }), /32768|32,768/],
    ] as const;
    for (const [what, InlinePolicy, message] of refused) {
      await expect(client.send(new PutInlinePolicyToPermissionSetCommand({ ...target, InlinePolicy })), what).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
        message: expect.stringMatching(message),
      });
    }
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy).toBe(POLICY);
    const failures = (await auditRows('PutInlinePolicyToPermissionSet')).filter((r) => r.request_parameters?.includes(arn) && r.error_code);
    expect(failures.map((r) => r.error_code)).toContain('access.invalid_inline_policy');

    await client.send(new DeleteInlinePolicyFromPermissionSetCommand(target));
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy ?? '').toBe('');
  });

  it('attaches AWS managed policies from the catalogue only, once each', async () => {
    const target = { InstanceArn, PermissionSetArn: await newPermissionSet() };
    await client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/SecurityAudit' }));
    await client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess' }));
    const listed = await client.send(new ListManagedPoliciesInPermissionSetCommand(target));
    expect(listed.AttachedManagedPolicies).toEqual([
      { Name: 'SecurityAudit', Arn: 'arn:aws:iam::aws:policy/SecurityAudit' },
      { Name: 'ViewOnlyAccess', Arn: 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess' },
    ]);
    await expect(
      client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/SecurityAudit' })),
    ).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
    for (const ManagedPolicyArn of ['arn:aws:iam::aws:policy/NoSuchPolicyAnywhere', 'arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy']) {
      await expect(client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn }))).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    await client.send(new DetachManagedPolicyFromPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/SecurityAudit' }));
    await expect(
      client.send(new DetachManagedPolicyFromPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/SecurityAudit' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await client.send(new ListManagedPoliciesInPermissionSetCommand(target))).AttachedManagedPolicies?.map((p) => p.Name)).toEqual(['ViewOnlyAccess']);
  });

  it('holds at most 20 managed and customer-managed policies together', async () => {
    const target = { InstanceArn, PermissionSetArn: await newPermissionSet() };
    const managed = ['ReadOnlyAccess', 'SecurityAudit', 'AmazonS3ReadOnlyAccess', 'AmazonEC2ReadOnlyAccess', 'IAMReadOnlyAccess'];
    for (const name of managed) {
      await client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: `arn:aws:iam::aws:policy/${name}` }));
    }
    await client.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: 'Root' } }));
    for (let i = 0; i < 14; i++) {
      await client.send(
        new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: `Team${i}`, Path: '/teams/' } }),
      );
    }
    await expect(
      client.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: 'OneTooMany' } })),
    ).rejects.toMatchObject({ name: 'ServiceQuotaExceededException', $metadata: { httpStatusCode: 402 } });
    await expect(
      client.send(new AttachManagedPolicyToPermissionSetCommand({ ...target, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess' })),
    ).rejects.toMatchObject({ name: 'ServiceQuotaExceededException' });
    await expect(
      client.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: 'Root', Path: '/' } })),
    ).rejects.toMatchObject({ name: 'ConflictException' });

    const customer = await client.send(new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ ...target, MaxResults: 10 }));
    expect(customer.CustomerManagedPolicyReferences).toHaveLength(10);
    const rest = await client.send(new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ ...target, NextToken: customer.NextToken }));
    const refs = [...customer.CustomerManagedPolicyReferences!, ...rest.CustomerManagedPolicyReferences!];
    expect(refs).toHaveLength(15);
    expect(refs).toContainEqual({ Name: 'Root', Path: '/' });
    expect(refs).toContainEqual({ Name: 'Team3', Path: '/teams/' });
    expect((await client.send(new ListManagedPoliciesInPermissionSetCommand(target))).AttachedManagedPolicies).toHaveLength(5);

    await client.send(new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: 'Team3', Path: '/teams/' } }));
    await client.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...target, CustomerManagedPolicyReference: { Name: 'NowItFits' } }));
  });

  it('keeps one permissions boundary: a managed policy or a customer-managed reference', async () => {
    const target = { InstanceArn, PermissionSetArn: await newPermissionSet() };
    await expect(client.send(new GetPermissionsBoundaryForPermissionSetCommand(target))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await client.send(new PutPermissionsBoundaryToPermissionSetCommand({ ...target, PermissionsBoundary: { ManagedPolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess' } }));
    expect((await client.send(new GetPermissionsBoundaryForPermissionSetCommand(target))).PermissionsBoundary).toEqual({
      ManagedPolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess',
    });
    await client.send(new PutPermissionsBoundaryToPermissionSetCommand({ ...target, PermissionsBoundary: { CustomerManagedPolicyReference: { Name: 'Boundary' } } }));
    expect((await client.send(new GetPermissionsBoundaryForPermissionSetCommand(target))).PermissionsBoundary).toEqual({
      CustomerManagedPolicyReference: { Name: 'Boundary', Path: '/' },
    });
    for (const PermissionsBoundary of [
      { ManagedPolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess', CustomerManagedPolicyReference: { Name: 'Boundary' } },
      {},
      { ManagedPolicyArn: 'arn:aws:iam::aws:policy/NotARealPolicy' },
    ]) {
      await expect(client.send(new PutPermissionsBoundaryToPermissionSetCommand({ ...target, PermissionsBoundary }))).rejects.toMatchObject({
        name: 'ValidationException',
      });
    }
    await client.send(new DeletePermissionsBoundaryFromPermissionSetCommand(target));
    await expect(client.send(new GetPermissionsBoundaryForPermissionSetCommand(target))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('tags permission sets', async () => {
    const created = await client.send(
      new CreatePermissionSetCommand({ InstanceArn, Name: `tagged-${suffix()}`, Tags: [{ Key: 'team', Value: 'platform' }] }),
    );
    const ResourceArn = created.PermissionSet!.PermissionSetArn!;
    await client.send(new TagResourceCommand({ InstanceArn, ResourceArn, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'security' }] }));
    expect((await client.send(new ListTagsForResourceCommand({ InstanceArn, ResourceArn }))).Tags).toEqual([
      { Key: 'env', Value: 'prod' },
      { Key: 'team', Value: 'security' },
    ]);
    await client.send(new UntagResourceCommand({ InstanceArn, ResourceArn, TagKeys: ['env'] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn }))).Tags).toEqual([{ Key: 'team', Value: 'security' }]);
    await expect(client.send(new TagResourceCommand({ InstanceArn, ResourceArn, Tags: [{ Key: 'aws:reserved', Value: 'x' }] }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expect(client.send(new TagResourceCommand({ InstanceArn, ResourceArn, Tags: tooMany }))).rejects.toMatchObject({
      name: 'ServiceQuotaExceededException',
    });
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn }))).Tags).toHaveLength(1);
    const missing = ResourceArn.replace(/ps-[0-9a-f]{16}$/, 'ps-0000000000000000');
    await expect(client.send(new ListTagsForResourceCommand({ InstanceArn, ResourceArn: missing }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await client.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: ResourceArn }));
    const left = await server.reg.database.db.selectFrom('tags').select('tag_key').where('resource_arn', '=', ResourceArn).execute();
    expect(left).toEqual([]);
  });

  it('keeps the instance access control attribute configuration', async () => {
    const describe = () => client.send(new DescribeInstanceAccessControlAttributeConfigurationCommand({ InstanceArn }));
    await expect(describe()).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    const config = { AccessControlAttributes: [{ Key: 'CostCenter', Value: { Source: ['${path:enterprise.costCenter}'] } }] };
    await client.send(new CreateInstanceAccessControlAttributeConfigurationCommand({ InstanceArn, InstanceAccessControlAttributeConfiguration: config }));
    await expect(
      client.send(new CreateInstanceAccessControlAttributeConfigurationCommand({ InstanceArn, InstanceAccessControlAttributeConfiguration: config })),
    ).rejects.toMatchObject({ name: 'ConflictException' });
    const described = await describe();
    expect(described.Status).toBe('ENABLED');
    expect(described.StatusReason).toBeTruthy();
    expect(described.InstanceAccessControlAttributeConfiguration).toEqual(config);

    const updated = {
      AccessControlAttributes: [
        { Key: 'CostCenter', Value: { Source: ['${path:enterprise.costCenter}'] } },
        { Key: 'Department', Value: { Source: ['${path:enterprise.department}'] } },
      ],
    };
    await client.send(new UpdateInstanceAccessControlAttributeConfigurationCommand({ InstanceArn, InstanceAccessControlAttributeConfiguration: updated }));
    expect((await describe()).InstanceAccessControlAttributeConfiguration).toEqual(updated);
    const duplicate = { AccessControlAttributes: [updated.AccessControlAttributes[0]!, updated.AccessControlAttributes[0]!] };
    await expect(
      client.send(new UpdateInstanceAccessControlAttributeConfigurationCommand({ InstanceArn, InstanceAccessControlAttributeConfiguration: duplicate })),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    await client.send(new DeleteInstanceAccessControlAttributeConfigurationCommand({ InstanceArn }));
    await expect(describe()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(client.send(new DeleteInstanceAccessControlAttributeConfigurationCommand({ InstanceArn }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect((await auditRows('CreateInstanceAccessControlAttributeConfiguration')).map((r) => r.error_code)).toEqual([null, 'access.attribute_configuration_exists']);
  });
});
