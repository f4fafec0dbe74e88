// Compiled policies, kept per policy version: a managed policy is compiled once per process, an
// inline or customer-managed one once per (holder, version) until it changes.

import { compilePolicy, unreadablePolicy, type CompiledPolicy, type PolicySource } from './evaluate.js';
import { managedPolicyDocument } from './managed-policy-catalogue.js';
import { parsePolicy } from './parse-policy.js';

const MAX_ENTRIES = 10_000;

export class PolicyCache {
  private readonly compiled = new Map<string, CompiledPolicy>();

  /**
   * The compiled policy for `text`, keyed by `versionKey` (e.g. `<permission set ARN>#v<n>#inline`).
   * A text that is not a valid policy (validated on write, so a row stored before a rule that now
   * refuses it) compiles to unreadablePolicy: left out, the Denies it holds would not apply, so a
   * set that holds it allows nothing.
   */
  compile(versionKey: string, text: string, source: PolicySource): CompiledPolicy {
    const hit = this.compiled.get(versionKey);
    if (hit) return hit;
    const parsed = parsePolicy(text);
    const policy = parsed.ok ? compilePolicy(parsed.document, source) : unreadablePolicy(source);
    if (this.compiled.size >= MAX_ENTRIES) this.compiled.delete(this.compiled.keys().next().value as string);
    this.compiled.set(versionKey, policy);
    return policy;
  }

  /** An AWS managed policy, compiled once; undefined if AWS has no policy with that ARN. */
  async managed(arn: string, origin?: string): Promise<CompiledPolicy | undefined> {
    const key = `managed#${arn}#${origin ?? ''}`;
    const hit = this.compiled.get(key);
    if (hit) return hit;
    const text = await managedPolicyDocument(arn);
    return text === undefined ? undefined : this.compile(key, text, { policyId: arn, ...(origin ? { origin } : {}) });
  }
}
