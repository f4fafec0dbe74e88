// policy/: the IAM policy language (parse and validate into an immutable AST) and the catalogue
// of AWS managed policies.
export { findManagedPolicy, type ManagedPolicy } from './managed-policy-catalogue.js';
export { parsePolicy, type PolicyParseResult } from './parse-policy.js';
export type { Condition, Effect, PatternList, PolicyDocument, PolicyVersion, Statement } from './policy-document.js';
