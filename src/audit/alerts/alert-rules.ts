// Alert rules over the sealed chain, evaluated in chain order: each sees one event at a time with
// its own durable state, so that a restart or another process carries on exactly where it stopped.

import { HIDDEN, type AuditEvent } from '../audit-event.js';
import type { AlertStore, FiredAlert } from './alert-store.js';

export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

export type AlertRuleSpec =
  | {
      type: 'assignment-outside-automation';
      name: string;
      severity: AlertSeverity;
      /** The automation's ARNs or access key ids: its assignments raise nothing. */
      automationPrincipals: string[];
    }
  | {
      type: 'failed-sign-ins';
      name: string;
      severity: AlertSeverity;
      /** N failed sign-ins for one user… */
      threshold: number;
      /** …within M minutes, by the events' own times. */
      windowMinutes: number;
    };

export type NewAlert = Omit<FiredAlert, 'id' | 'firedAt'>;

export interface AlertRule {
  readonly name: string;
  /** The alert this event fires, if any; state changes go through `store` (the evaluator's transaction). */
  evaluate(position: number, event: AuditEvent, store: AlertStore): Promise<NewAlert | undefined>;
}

/** A CreateAccountAssignment that succeeded, made by anyone but the configured automation principal. */
export function assignmentOutsideAutomation(spec: Extract<AlertRuleSpec, { type: 'assignment-outside-automation' }>): AlertRule {
  const automation = new Set(spec.automationPrincipals);
  return {
    name: spec.name,
    evaluate(position, e) {
      if (e.eventName !== 'CreateAccountAssignment' || e.errorCode) return Promise.resolve(undefined);
      const who = e.userIdentity;
      if ((who.arn && automation.has(who.arn)) || (who.accessKeyId && automation.has(who.accessKeyId))) return Promise.resolve(undefined);
      const subject = who.arn ?? who.userName ?? who.principalId;
      return Promise.resolve({ rule: spec.name, severity: spec.severity, position, subject, eventIds: [e.eventId] });
    },
  };
}

/**
 * `threshold` failed sign-ins (CredentialVerification with an error) for one known user within
 * `windowMinutes`. Firing empties the user's window, so the next alert needs `threshold` new failures.
 * Failures for unknown user names are not counted: the log keeps no name for them.
 */
export function failedSignIns(spec: Extract<AlertRuleSpec, { type: 'failed-sign-ins' }>): AlertRule {
  const windowMs = spec.windowMinutes * 60_000;
  return {
    name: spec.name,
    async evaluate(position, e, store) {
      if (e.eventName !== 'CredentialVerification' || !e.errorCode) return undefined;
      const user = e.userIdentity.userName;
      if (!user || user === HIDDEN) return undefined;
      await store.pruneWindow(spec.name, e.eventTime - windowMs);
      await store.addToWindow(spec.name, position, user, e.eventId, e.eventTime);
      const recent = await store.windowOf(spec.name, user, e.eventTime - windowMs);
      if (recent.length < spec.threshold) return undefined;
      await store.clearWindow(spec.name, user);
      return { rule: spec.name, severity: spec.severity, position, subject: user, eventIds: recent.map((r) => r.eventId) };
    },
  };
}

export function alertRule(spec: AlertRuleSpec): AlertRule {
  switch (spec.type) {
    case 'assignment-outside-automation':
      return assignmentOutsideAutomation(spec);
    case 'failed-sign-ins':
      return failedSignIns(spec);
  }
}
