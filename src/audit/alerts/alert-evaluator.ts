// The alert rules as one consumer of the sealed chain: each batch is evaluated, its alerts recorded
// and the cursor moved in one transaction; then undelivered alerts go to the alert webhook, oldest
// first, each marked delivered once the webhook took it (at least once).

import type { Clock } from '../../shared/clock.js';
import type { Transactor } from '../../shared/transactor.js';
import type { ChainConsumer } from '../sinks/chain-follower.js';
import type { AuditSinkStore } from '../sinks/sink-store.js';
import { postJson, type WebhookTarget } from '../sinks/transports.js';
import type { AlertRule } from './alert-rules.js';
import type { AlertStore, FiredAlert } from './alert-store.js';

export const ALERTS_CURSOR = 'alerts';

/** The JSON the alert webhook receives, one POST per alert. */
export function alertPayload(a: FiredAlert): object {
  return {
    source: 'atrium',
    alertId: a.id,
    rule: a.rule,
    severity: a.severity,
    subject: a.subject,
    eventIds: a.eventIds,
    chainPosition: a.position,
    firedAt: new Date(a.firedAt).toISOString(),
  };
}

export function alertEvaluator(deps: {
  tx: Transactor<{ auditSinks: AuditSinkStore; alerts: AlertStore }>;
  read: { alerts: AlertStore };
  clock: Clock;
  rules: readonly AlertRule[];
  webhook: WebhookTarget;
}): ChainConsumer {
  return {
    name: ALERTS_CURSOR,
    // Alerts are about what happens from now on: the history before the rules were first configured
    // would otherwise fire, each alert with firedAt now.
    startAtHead: true,
    async consume(batch, advance) {
      await deps.tx.transaction(async (s) => {
        for (const { position, event } of batch) {
          for (const rule of deps.rules) {
            const fired = await rule.evaluate(position, event, s.alerts);
            if (fired) await s.alerts.insertAlert({ ...fired, firedAt: deps.clock.now() });
          }
        }
        if (!(await advance(s))) throw new Error('the alert evaluator lost its lease');
      });
    },
    async afterwards() {
      for (;;) {
        const pending = await deps.read.alerts.undeliveredAlerts(50);
        for (const a of pending) {
          await postJson(deps.webhook, alertPayload(a));
          await deps.read.alerts.markAlertDelivered(a.id, deps.clock.now());
        }
        if (pending.length < 50) return;
      }
    },
  };
}
