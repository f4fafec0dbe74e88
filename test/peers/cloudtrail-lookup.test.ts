// LookupEvents as unchanged clients call it: Debian's AWS CLI v2 (`aws cloudtrail lookup-events`) and
// boto3, signed with the admin key. Filters, several at once (ANDed), time ranges, pagination, and
// CloudTrail's own exceptions for bad input.

import { CreateGroupCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, PYTHON, hasAwsCli, hasBoto3, peerAvailable, peerEnv, run, type PeerEnv } from '../helpers/peers.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

interface LookedUp {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  Username?: string;
  AccessKeyId?: string;
  EventSource: string;
  Resources: { ResourceType: string; ResourceName: string }[];
  CloudTrailEvent: string;
}

describe.runIf(peerAvailable('awscli', hasAwsCli)).each(dialects())('LookupEvents through the AWS CLI on %s', (dialect) => {
  let server: TestServer;
  let env: PeerEnv;
  let userIds: string[];
  const aws = async (...args: string[]) => {
    const r = await run(AWS_CLI, ['cloudtrail', 'lookup-events', ...args, '--output', 'json'], env);
    return { ...r, json: r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { Events: LookedUp[]; NextToken?: string }) : undefined };
  };
  beforeAll(async () => {
    server = await startServer(dialect);
    env = peerEnv(server.url, server.credentials);
    const ids = new IdentitystoreClient(sdkOptions(server));
    userIds = [];
    for (let i = 0; i < 7; i++) {
      const u = await ids.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: `look-${i}`, DisplayName: 'L', Name: { GivenName: 'L', FamilyName: `${i}` } }));
      userIds.push(u.UserId!);
    }
    await ids.send(new CreateGroupCommand({ IdentityStoreId: server.init.identityStoreId, DisplayName: 'lookers' }));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('finds events by name, newest first, with the CloudTrail record and no secret', async () => {
    const r = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateUser');
    expect(r.stderr).toBe('');
    const events = r.json!.Events;
    expect(events).toHaveLength(7);
    expect(events.every((e) => e.EventName === 'CreateUser' && e.ReadOnly === 'false' && e.EventSource === 'identitystore.amazonaws.com')).toBe(true);
    expect(events[0]!.Username).toBe('atrium-admin');
    expect(events[0]!.AccessKeyId).toBe(server.credentials.accessKeyId);
    // Newest first: the last user created comes first, and its resource is that user.
    expect(events[0]!.Resources).toEqual([{ ResourceType: 'AWS::IdentityStore::User', ResourceName: userIds[6] }]);
    const record = JSON.parse(events[0]!.CloudTrailEvent) as Record<string, unknown>;
    expect(record).toMatchObject({ eventVersion: '1.08', eventName: 'CreateUser', eventSource: 'identitystore.amazonaws.com', eventID: events[0]!.EventId, readOnly: false });
    expect(record.userIdentity).toMatchObject({ type: 'IAMUser', userName: 'atrium-admin', accessKeyId: server.credentials.accessKeyId });
    const all = await aws();
    expect(JSON.stringify(all.json)).not.toContain(server.credentials.secretAccessKey);
  });

  it('filters by resource, event id, user and key; several attributes are ANDed', async () => {
    const byResource = await aws('--lookup-attributes', `AttributeKey=ResourceName,AttributeValue=${userIds[2]}`);
    expect(byResource.json!.Events.map((e) => e.EventName)).toEqual(['CreateUser']);
    const id = byResource.json!.Events[0]!.EventId;
    expect((await aws('--lookup-attributes', `AttributeKey=EventId,AttributeValue=${id}`)).json!.Events.map((e) => e.EventId)).toEqual([id]);
    const both = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateGroup', 'AttributeKey=Username,AttributeValue=atrium-admin');
    expect(both.json!.Events.map((e) => e.EventName)).toEqual(['CreateGroup']);
    const none = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateGroup', 'AttributeKey=Username,AttributeValue=somebody-else');
    expect(none.json!.Events).toEqual([]);
    const byKey = await aws('--lookup-attributes', `AttributeKey=AccessKeyId,AttributeValue=${server.credentials.accessKeyId}`, 'AttributeKey=ReadOnly,AttributeValue=false');
    expect(byKey.json!.Events.length).toBeGreaterThanOrEqual(8);
  });

  it('pages with MaxResults and NextToken, and honours a time range', async () => {
    const first = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateUser', '--max-results', '3', '--no-paginate');
    expect(first.json!.Events).toHaveLength(3);
    expect(first.json!.NextToken).toBeTruthy();
    // The CLI's own paginator walks every page.
    const paged = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateUser', '--page-size', '2');
    expect(paged.json!.Events.map((e) => e.Resources[0]!.ResourceName)).toEqual([...userIds].reverse());
    const future = await aws('--start-time', String(Math.floor(Date.now() / 1000) + 3600));
    expect(future.json!.Events).toEqual([]);
    const past = await aws('--end-time', '2001-01-01T00:00:00Z');
    expect(past.json!.Events).toEqual([]);
  });

  it("refuses bad input with CloudTrail's exceptions", async () => {
    const badKey = await aws('--lookup-attributes', 'AttributeKey=Username,AttributeValue=a', 'AttributeKey=Username,AttributeValue=b');
    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toContain('InvalidLookupAttributesException');
    const badRange = await aws('--start-time', '2030-01-01T00:00:00Z', '--end-time', '2020-01-01T00:00:00Z');
    expect(badRange.stderr).toContain('InvalidTimeRangeException');
    const badMax = await aws('--max-results', '51', '--no-paginate');
    expect(badMax.stderr).toContain('InvalidMaxResultsException');
    const badToken = await aws('--starting-token', 'bm90LWEtdG9rZW4=', '--max-items', '1');
    expect(badToken.code).not.toBe(0);
    // A token from another query is refused, as AWS does.
    const token = (await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateUser', '--max-results', '1', '--no-paginate')).json!.NextToken!;
    const reused = await aws('--lookup-attributes', 'AttributeKey=EventName,AttributeValue=CreateGroup', '--next-token', token, '--no-paginate');
    expect(reused.stderr).toContain('InvalidNextTokenException');
  });

  it('answers boto3 too, through its paginator', async () => {
    if (!hasBoto3()) return;
    const script = [
      'import boto3, json',
      "ct = boto3.client('cloudtrail')",
      "pages = ct.get_paginator('lookup_events').paginate(LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': 'CreateUser'}], PaginationConfig={'PageSize': 2})",
      "names = [e['EventName'] for p in pages for e in p['Events']]",
      'print(json.dumps(names))',
    ].join('\n');
    const r = await run(PYTHON, ['-c', script], env);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(Array(7).fill('CreateUser'));
  });

  it('is not open to an unsigned caller', async () => {
    const res = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });
});
