// Alert rules from configuration, evaluated over the sealed chain: an account assignment made by a
// person fires the alert and one made by the configured automation principal does not (driven by
// the real AWS SDK), and N failed sign-ins for one user within M minutes fire another. Alerts reach a
// real HTTP webhook, at least once, with their severity, rule name and triggering eventIDs.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateAccountAssignmentCommand, CreatePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_KEY_PURPOSE } from '../../src/policy/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const AUTOMATION_ARN = 'arn:aws:iam::123456789012:user/terraform';
const STRONG = 'Vq7#mXw2!pLz';

interface AlertBody {
  source: string;
  alertId: number;
  rule: string;
  severity: string;
  subject: string;
  eventIds: string[];
}

describe.each(dialects())('audit alerts on %s', (dialect) => {
  let server: TestServer;
  let receiver: Server;
  const alerts: AlertBody[] = [];
  /** The receiver refuses this many posts first (an outage): alerts must still arrive. */
  let refuse = 1;
  const authorizations = new Set<string | undefined>();

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        authorizations.add(req.headers.authorization);
        if (refuse > 0) {
          refuse--;
          return res.writeHead(503).end();
        }
        alerts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertBody);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
    server = await startServer(dialect, {
      auditSealMs: 50,
      auditSinkPollMs: 50,
      auditSinkRetryMs: 100,
      auditSinkRetryMaxMs: 500,
      auditAlerts: {
        webhook: { url, headers: { authorization: 'Bearer alert-hook-token' } },
        rules: [
          { type: 'assignment-outside-automation', name: 'assignment-by-person', automationPrincipals: [AUTOMATION_ARN] },
          { type: 'failed-sign-ins', name: 'failed-sign-ins', severity: 'medium', threshold: 3, windowMinutes: 5 },
        ],
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((r) => receiver.close(r));
  });

  it('fires for an assignment made by a person, not for one made by the automation principal', async () => {
    const ctx = systemContext('iam.amazonaws.com', 'us-east-1', 'test');
    const automationKey = await server.reg.credentials.createAccessKey(
      ctx,
      { principalType: 'IAMUser', principalId: 'AIDATERRAFORM0000001', principalArn: AUTOMATION_ARN, accountId: '123456789012', userName: 'terraform' },
      // Automation holds AdministratorAccess, as a Terraform key would; only its ARN differs.
      `${POLICY_KEY_PURPOSE}AdministratorAccess`,
    );
    const automation = new SSOAdminClient(sdkOptions(server, { accessKeyId: automationKey.accessKeyId, secretAccessKey: automationKey.secretAccessKey }));
    const person = new SSOAdminClient(sdkOptions(server));
    const ids = new IdentitystoreClient(sdkOptions(server));
    const { instanceArn: InstanceArn, managementAccountId: TargetId, identityStoreId: IdentityStoreId } = server.init;
    const PermissionSetArn = (await person.send(new CreatePermissionSetCommand({ InstanceArn, Name: 'Alerting' }))).PermissionSet!.PermissionSetArn!;
    const user = (id: string) => ids.send(new CreateUserCommand({ IdentityStoreId, UserName: id, DisplayName: id, Name: { GivenName: 'A', FamilyName: 'B' } }));
    const [u1, u2] = [(await user('assigned-by-bot')).UserId!, (await user('assigned-by-hand')).UserId!];
    const assign = (client: SSOAdminClient, PrincipalId: string) =>
      client.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId, TargetType: 'AWS_ACCOUNT', PermissionSetArn, PrincipalType: 'USER', PrincipalId }));

    await assign(automation, u1);
    await assign(person, u2);

    await expect.poll(() => alerts.filter((a) => a.rule === 'assignment-by-person').length, { timeout: 15_000 }).toBe(1);
    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['event_id', 'access_key_id'])
      .where('event_name', '=', 'CreateAccountAssignment')
      .where('error_code', 'is', null)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.access_key_id)).toEqual([automationKey.accessKeyId, server.credentials.accessKeyId]);
    const [alert] = alerts.filter((a) => a.rule === 'assignment-by-person');
    expect(alert).toMatchObject({ source: 'atrium', severity: 'high', subject: `arn:aws:iam::${TargetId}:user/atrium-admin`, eventIds: [events[1]!.event_id] });

    // The automation's assignment was evaluated (the cursor is past it) and raised nothing.
    const automationPosition = await server.reg.database.db.selectFrom('audit_chain').select('position').where('event_id', '=', events[0]!.event_id).executeTakeFirstOrThrow();
    const cursor = await server.reg.database.db
      .selectFrom('audit_sink_cursors' as never)
      .select('position' as never)
      .where('name' as never, '=', 'alerts' as never)
      .executeTakeFirstOrThrow();
    expect(Number((cursor as { position: number }).position)).toBeGreaterThan(Number(automationPosition.position));
    expect(alerts.flatMap((a) => a.eventIds)).not.toContain(events[0]!.event_id);
  }, 30_000);

  it('fires once N sign-ins of one user fail within M minutes, with the failures as its events', async () => {
    const ids = new IdentitystoreClient(sdkOptions(server));
    for (const name of ['carol', 'dan']) {
      await ids.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: name, DisplayName: name, Name: { GivenName: 'C', FamilyName: 'D' } }));
      await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), name, { password: STRONG, oneTime: false });
    }
    // Two failures for dan: under the threshold. Three for carol: an alert.
    for (const name of ['dan', 'carol', 'dan', 'carol', 'carol']) {
      const res = await new Browser(server.url).signIn(name, 'wrong-password-1!');
      expect(res.status).not.toBe(303);
    }
    await expect.poll(() => alerts.filter((a) => a.rule === 'failed-sign-ins').length, { timeout: 15_000 }).toBe(1);
    const failures = await server.reg.database.db
      .selectFrom('audit_events')
      .select('event_id')
      .where('event_name', '=', 'CredentialVerification')
      .where('user_name', '=', 'carol')
      .where('error_code', '=', 'auth.failed')
      .orderBy('seq')
      .execute();
    expect(failures).toHaveLength(3);
    expect(alerts.find((a) => a.rule === 'failed-sign-ins')).toMatchObject({ severity: 'medium', subject: 'carol', eventIds: failures.map((f) => f.event_id) });
    // Nothing for dan; every alert is recorded as delivered, having carried the configured header.
    expect(alerts.filter((a) => a.subject === 'dan')).toEqual([]);
    await expect
      .poll(async () => {
        const rows = await server.reg.database.db.selectFrom('audit_alerts' as never).select('delivered_at' as never).execute();
        return (rows as { delivered_at: number | null }[]).map((r) => r.delivered_at !== null);
      })
      .toEqual([true, true]);
    expect([...authorizations]).toEqual(['Bearer alert-hook-token']);
  }, 30_000);
});
