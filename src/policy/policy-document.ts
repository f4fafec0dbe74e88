// The IAM policy AST: immutable nodes tagged by `kind`, each built by a frozen constructor object.
// The parser produces it; a later evaluator walks it without re-reading any JSON.

export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

export interface PolicyDocument {
  readonly kind: 'PolicyDocument';
  /** IAM treats a document without Version as 2008-10-17 (no policy variables). */
  readonly version: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly Statement[];
}

/** Action/NotAction or Resource/NotResource: wildcard patterns (`*`, `?`), `negated` for the Not forms. */
export interface PatternList {
  readonly kind: 'PatternList';
  readonly negated: boolean;
  readonly patterns: readonly string[];
}

/** One operator/key pair of a Condition block; values are kept as IAM compares them, as strings. */
export interface Condition {
  readonly kind: 'Condition';
  /** The full operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  readonly key: string;
  readonly values: readonly string[];
}

export interface Statement {
  readonly kind: 'Statement';
  readonly sid?: string;
  readonly effect: Effect;
  readonly action: PatternList;
  readonly resource: PatternList;
  readonly conditions: readonly Condition[];
}

export const PolicyDocumentNode = Object.freeze({
  create: (version: PolicyVersion, statements: readonly Statement[], id?: string): PolicyDocument =>
    Object.freeze({ kind: 'PolicyDocument', version, ...(id === undefined ? {} : { id }), statements: Object.freeze([...statements]) }),
});

export const StatementNode = Object.freeze({
  create: (s: Omit<Statement, 'kind'>): Statement =>
    Object.freeze({ kind: 'Statement', ...s, conditions: Object.freeze([...s.conditions]) }),
});

export const PatternListNode = Object.freeze({
  create: (negated: boolean, patterns: readonly string[]): PatternList =>
    Object.freeze({ kind: 'PatternList', negated, patterns: Object.freeze([...patterns]) }),
});

export const ConditionNode = Object.freeze({
  create: (operator: string, key: string, values: readonly string[]): Condition =>
    Object.freeze({ kind: 'Condition', operator, key, values: Object.freeze([...values]) }),
});
