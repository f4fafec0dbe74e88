import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, loadConfig } from './config.js';

describe('audit sinks and alerts in the configuration', () => {
  it('reads sinks and alert rules from the environment as JSON, with their defaults', () => {
    const c = loadConfig({}, {
      ATRIUM_AUDIT_SINKS: JSON.stringify([
        { type: 'webhook', name: 'siem', url: 'https://siem.example.com/in', headers: { authorization: 'Bearer x' } },
        { type: 'syslog', name: 'rsyslog', host: 'logs.example.com', port: 514 },
        { type: 'file', name: 'archive', path: '/var/log/atrium/audit.jsonl' },
      ]),
      ATRIUM_AUDIT_ALERTS: JSON.stringify({
        webhook: { url: 'https://alerts.example.com/hook' },
        rules: [
          { type: 'assignment-outside-automation', name: 'by-person', automationPrincipals: ['arn:aws:iam::111122223333:user/terraform'] },
          { type: 'failed-sign-ins', name: 'spray' },
        ],
      }),
      ATRIUM_AUDIT_SINK_RETRY_MAX_MS: '60000',
    });
    expect(c.auditSinks).toEqual([
      { type: 'webhook', name: 'siem', url: 'https://siem.example.com/in', headers: { authorization: 'Bearer x' }, batchSize: 100, timeoutMs: 10_000 },
      { type: 'syslog', name: 'rsyslog', host: 'logs.example.com', port: 514, facility: 13, appName: 'atrium', batchSize: 100, timeoutMs: 10_000, tls: false },
      { type: 'file', name: 'archive', path: '/var/log/atrium/audit.jsonl', batchSize: 100 },
    ]);
    expect(c.auditAlerts?.rules[1]).toEqual({ type: 'failed-sign-ins', name: 'spray', severity: 'high', threshold: 5, windowMinutes: 15 });
    expect(c.auditSinkRetryMaxMs).toBe(60_000);
    expect(loadConfig({}, {}).auditSinks).toEqual([]);
  });

  it('refuses what it cannot deliver, naming the setting', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig({}, env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ ATRIUM_AUDIT_SINKS: '[{"type":"webhook","name":"a","url":"ftp://x/"}]' })).toMatch(/auditSinks\.0\.url/);
    expect(refused({ ATRIUM_AUDIT_SINKS: '[{"type":"file","name":"a","path":"/x"},{"type":"file","name":"a","path":"/y"}]' })).toMatch(/sink names must be unique/);
    expect(refused({ ATRIUM_AUDIT_SINKS: '[{"type":"file","name":"alerts","path":"/x"}]' })).toMatch(/alert rules' own cursor/);
    expect(refused({ ATRIUM_AUDIT_SINKS: '[{"type":"kafka","name":"k"}]' })).toMatch(/auditSinks/);
    expect(refused({ ATRIUM_AUDIT_SINKS: 'not json' })).toMatch(/auditSinks/);
    // A password in the URL would surface in every delivery error: refused, and not echoed back.
    const withPassword = refused({ ATRIUM_AUDIT_SINKS: '[{"type":"webhook","name":"a","url":"https://siem:hunter2@siem.example/in"}]' });
    expect(withPassword).toMatch(/auditSinks\.0\.url: must not carry a user name or password/);
    expect(withPassword).not.toContain('hunter2');
    expect(refused({ ATRIUM_AUDIT_ALERTS: '{"webhook":{"url":"https://a.example/"},"rules":[{"type":"assignment-outside-automation","name":"r","automationPrincipals":[]}]}' })).toMatch(/automationPrincipals/);
    // What fetch cannot send would fail every delivery as "unreachable": refused here, the value not echoed.
    const sink = (headers: Record<string, string>, url = 'http://127.0.0.1:9/in') => ({ ATRIUM_AUDIT_SINKS: JSON.stringify([{ type: 'webhook', name: 'a', url, headers }]) });
    expect(refused(sink({ 'Authorization ': 'Bearer abc' }))).toMatch(/auditSinks\.0\.headers\.Authorization : a header name must be a token/);
    expect(refused(sink({ 'x:y': 'v' }))).toMatch(/a header name must be a token/);
    const injected = refused(sink({ 'x-ok': 'a\r\nInjected: 1' }));
    expect(injected).toMatch(/auditSinks\.0\.headers\.x-ok: a header value must not hold CR, LF or NUL/);
    expect(injected).not.toContain('Injected');
    expect(refused(sink({ 'x-ok': 'a\u0000b' }))).toMatch(/must not hold CR, LF or NUL/);
    expect(refused(sink({}, 'http://127.0.0.1:0/in'))).toMatch(/auditSinks\.0\.url: must not name port 0/);
    expect(refused({ ATRIUM_AUDIT_ALERTS: '{"webhook":{"url":"https://a.example:0/","headers":{"bad name":"v"}},"rules":[{"type":"failed-sign-ins","name":"r"}]}' })).toMatch(/auditAlerts\.webhook\.url: must not name port 0.*auditAlerts\.webhook\.headers\.bad name/);
    expect(loadConfig({}, sink({ 'X-Api-Key': 'k e y', authorization: 'Bearer x' })).auditSinks).toHaveLength(1);
  });

  it('warns about a webhook on plain http beyond loopback', () => {
    const c = loadConfig({}, { ATRIUM_AUDIT_SINKS: '[{"type":"webhook","name":"a","url":"http://siem.example.com/"},{"type":"webhook","name":"b","url":"http://127.0.0.1:9/"}]' });
    expect(configWarnings(c).filter((w) => w.includes('plain http'))).toEqual(['audit webhook http://siem.example.com is plain http: audit events and alerts cross the network unencrypted']);
  });
});
