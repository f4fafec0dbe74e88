import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../audit-event.js';
import { backoffMs } from '../sinks/chain-follower.js';
import { alertRule } from './alert-rules.js';
import type { AlertStore } from './alert-store.js';

/** The window part of the port, in memory: enough for the rules' own logic. */
function memoryWindow(): AlertStore {
  let rows: { rule: string; position: number; subject: string; eventId: string; eventTime: number }[] = [];
  const unused = () => Promise.reject(new Error('not used'));
  return {
    addToWindow: (rule, position, subject, eventId, eventTime) => Promise.resolve(void rows.push({ rule, position, subject, eventId, eventTime })),
    windowOf: (rule, subject, since) =>
      Promise.resolve(rows.filter((r) => r.rule === rule && r.subject === subject && r.eventTime >= since).map((r) => ({ position: r.position, eventId: r.eventId }))),
    clearWindow: (rule, subject) => Promise.resolve(void (rows = rows.filter((r) => r.rule !== rule || r.subject !== subject))),
    pruneWindow: (rule, before) => Promise.resolve(void (rows = rows.filter((r) => r.rule !== rule || r.eventTime >= before))),
    insertAlert: unused,
    undeliveredAlerts: unused,
    markAlertDelivered: unused,
    alerts: unused,
  };
}

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  eventId: `e-${Math.random()}`,
  eventTime: 0,
  eventSource: 'sso.amazonaws.com',
  eventName: 'CreateAccountAssignment',
  awsRegion: 'us-east-1',
  sourceIPAddress: '127.0.0.1',
  userAgent: 'test',
  userIdentity: { type: 'IAMUser', principalId: 'p', arn: 'arn:aws:iam::1:user/alice', accessKeyId: 'AKIAALICE' },
  requestParameters: {},
  responseElements: null,
  requestID: 'r',
  readOnly: false,
  eventType: 'AwsApiCall',
  ...over,
});

describe('alert rules', () => {
  const store = memoryWindow();

  it('an assignment by the automation, named by ARN or access key id, raises nothing; a refused one neither', async () => {
    const rule = alertRule({ type: 'assignment-outside-automation', name: 'a', severity: 'high', automationPrincipals: ['AKIABOT', 'arn:aws:iam::1:user/ci'] });
    expect(await rule.evaluate(1, event({ userIdentity: { type: 'IAMUser', principalId: 'b', accessKeyId: 'AKIABOT' } }), store)).toBeUndefined();
    expect(await rule.evaluate(2, event({ userIdentity: { type: 'IAMUser', principalId: 'c', arn: 'arn:aws:iam::1:user/ci' } }), store)).toBeUndefined();
    expect(await rule.evaluate(3, event({ errorCode: 'x' }), store)).toBeUndefined();
    expect(await rule.evaluate(4, event({ eventName: 'DeleteAccountAssignment' }), store)).toBeUndefined();
    const e = event({});
    expect(await rule.evaluate(5, e, store)).toEqual({ rule: 'a', severity: 'high', position: 5, subject: 'arn:aws:iam::1:user/alice', eventIds: [e.eventId] });
  });

  it('counts failed sign-ins per user within the window, by the events own times, and starts over after firing', async () => {
    const rule = alertRule({ type: 'failed-sign-ins', name: 'f', severity: 'medium', threshold: 3, windowMinutes: 1 });
    const failure = (position: number, user: string, t: number) =>
      rule.evaluate(position, event({ eventName: 'CredentialVerification', errorCode: 'auth.failed', eventTime: t, userIdentity: { type: 'IdentityCenterUser', principalId: user, userName: user } }), store);
    expect(await failure(1, 'bob', 0)).toBeUndefined();
    expect(await failure(2, 'bob', 10_000)).toBeUndefined();
    // The first failure is more than a minute before the third: only two count.
    expect(await failure(3, 'bob', 61_000)).toBeUndefined();
    expect(await failure(4, 'eve', 61_500)).toBeUndefined();
    expect((await failure(5, 'bob', 62_000))?.subject).toBe('bob');
    expect(await failure(6, 'bob', 63_000)).toBeUndefined();
    // A success, or a failure of an unknown (hidden) user, does not count.
    expect(await rule.evaluate(7, event({ eventName: 'CredentialVerification', userIdentity: { type: 'IdentityCenterUser', principalId: 'eve', userName: 'eve' } }), store)).toBeUndefined();
  });

  it('backs off exponentially up to the cap, with jitter below the nominal wait', () => {
    const opts = { retryBaseMs: 1000, retryMaxMs: 60_000 };
    expect([1, 2, 3, 7, 20].map((n) => backoffMs(n, opts, () => 0))).toEqual([1000, 2000, 4000, 60_000, 60_000]);
    expect(backoffMs(2, opts, () => 1)).toBe(1600);
  });
});
