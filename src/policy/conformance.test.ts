// The conformance suite: AWS's documented evaluation examples, one row per request, each citing
// the IAM User Guide section it comes from.

import { describe, expect, it } from 'vitest';
import { GROUPS, type Case, type Group } from './conformance/cases.js';
import { SOURCES } from './conformance/sources.js';
import { compilePolicy, evaluate, PolicySet } from './evaluate.js';
import { parsePolicy } from './parse-policy.js';

function compile(docs: readonly object[], origin: string) {
  return docs.map((d, i) => {
    const parsed = parsePolicy(JSON.stringify(d));
    if (!parsed.ok) throw new Error(`${origin}[${i}]: ${parsed.errors.join(' ')}`);
    return compilePolicy(parsed.document, { policyId: `${origin}-${i}` });
  });
}

const rows: { group: Group; c: Case; n: number }[] = GROUPS.flatMap((group) => group.cases.map((c, n) => ({ group, c, n })));

describe('IAM policy evaluation conformance', () => {
  it('has at least 300 cases, each citing a documented source', () => {
    expect(rows.length).toBeGreaterThanOrEqual(300);
    for (const { group } of rows) expect(SOURCES[group.source]).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/IAM\//);
  });

  for (const group of GROUPS) {
    describe(`${group.title} — ${SOURCES[group.source]}`, () => {
      const set = new PolicySet(compile(group.policies, 'policy'), group.boundary && compile(group.boundary, 'boundary'));
      it.each(group.cases.map((c, n) => [n, ...c] as const))('#%i %s on %s %j → %s', (_n, action, resource, context, expected) => {
        expect(evaluate(set, { action, resource, context }).decision).toBe(expected);
      });
    });
  }
});
