// Every configured audit sink, and the alert rules, as followers of the sealed chain: what `serve`
// runs in the background. Each has its own durable cursor and lease, so one slow or unreachable
// receiver never holds the others back.

import type { Clock } from '../../shared/clock.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { Transactor } from '../../shared/transactor.js';
import { alertEvaluator } from '../alerts/alert-evaluator.js';
import { alertRule, type AlertRuleSpec } from '../alerts/alert-rules.js';
import type { AlertStore } from '../alerts/alert-store.js';
import { ChainFollower, type FollowerLogger, type FollowerOptions } from './chain-follower.js';
import type { AuditSinkStore } from './sink-store.js';
import { sinkConsumer, type SinkSpec, type WebhookTarget } from './transports.js';

export interface AlertsSpec {
  webhook: WebhookTarget;
  rules: AlertRuleSpec[];
}

export interface AuditStreamsDeps {
  tx: Transactor<{ auditSinks: AuditSinkStore; alerts: AlertStore }>;
  read: { auditSinks: AuditSinkStore; alerts: AlertStore };
  clock: Clock;
  ids: IdGenerator;
  log: FollowerLogger;
}

/** Where a sink (or the alert rules) stands: what `atrium audit sinks` shows. */
export interface StreamStatus {
  name: string;
  /** The last chain position delivered (0: none yet). */
  position: number;
  /**
   * Events not delivered yet, measured against the newest event in the log, not the chain head:
   * the sealed ones past the cursor, and `unsealed`, which no sink gets until the sealer chains them.
   */
  behind: number;
  /** Events the sealer has not chained yet (the same for every sink). */
  unsealed: number;
  /** Consecutive failed deliveries, the last one's error, and when the next try is due (ms). */
  failures: number;
  lastError: string | null;
  retryAt: number | null;
}

export class AuditStreams {
  readonly followers: readonly ChainFollower[];
  private readonly read: AuditStreamsDeps['read'];

  constructor(deps: AuditStreamsDeps, spec: { sinks: readonly SinkSpec[]; alerts?: AlertsSpec | undefined }, opts: Omit<FollowerOptions, 'batchSize'>) {
    const followers = spec.sinks.map((s) => new ChainFollower(deps, sinkConsumer(s), { ...opts, batchSize: s.batchSize }));
    if (spec.alerts && spec.alerts.rules.length > 0) {
      const evaluator = alertEvaluator({ ...deps, rules: spec.alerts.rules.map(alertRule), webhook: spec.alerts.webhook });
      followers.push(new ChainFollower(deps, evaluator, { ...opts, batchSize: 500 }));
    }
    this.followers = followers;
    this.read = deps.read;
  }

  async status(): Promise<StreamStatus[]> {
    const [head, unsealed] = await Promise.all([this.read.auditSinks.headPosition(), this.read.auditSinks.unsealedCount()]);
    return Promise.all(
      this.followers.map(async (f) => {
        const c = await this.read.auditSinks.cursor(f.name);
        const position = c?.position ?? 0;
        return {
          name: f.name,
          position,
          behind: Math.max(0, head - position) + unsealed,
          unsealed,
          failures: c?.failures ?? 0,
          lastError: c?.lastError ?? null,
          retryAt: c && c.failures > 0 ? c.retryAt : null,
        };
      }),
    );
  }

  start(): void {
    for (const f of this.followers) f.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.stop()));
  }

  /** One pass of every follower, now (tests, and a CLI that wants to flush). */
  async runOnce(): Promise<number> {
    let n = 0;
    for (const f of this.followers) n += await f.runOnce();
    return n;
  }
}
