// policy/: the IAM policy language (parse and validate into an immutable AST, compile, evaluate)
// and the catalogue of AWS managed policies.
export { findManagedPolicy, listManagedPolicies, type ManagedPolicy } from './managed-policy-catalogue.js';
export { parsePolicy, type PolicyParseResult } from './parse-policy.js';
export type { Condition, Effect, PatternList, PolicyDocument, PolicyVersion, Statement } from './policy-document.js';
export {
  compilePolicy,
  evaluate,
  PolicySet,
  type AuthorizationRequest,
  type CompiledPolicy,
  type ContextValue,
  type DecidingStatement,
  type Decision,
  type PolicySource,
} from './evaluate.js';
export { managedPolicyDocument } from './managed-policy-catalogue.js';
export { PolicyCache } from './policy-cache.js';
export { describeErrors, validatePolicy, type FindingType, type PolicyFinding } from './validate-policy.js';
export {
  PolicyService,
  sessionContext,
  type EffectivePermissionSet,
  type PermissionSetSource,
  type PolicyDeps,
  type PrincipalSource,
  type SessionContext,
  type SimulationResult,
} from './policy-service.js';
export { ADMINISTRATOR_ACCESS, adminActionOf, POLICY_KEY_PURPOSE, policiesOfKeyPurpose, type AccessKeySource } from './policy-service.js';
export { resolveAttributePath, sessionTagsFor, type AbacUser } from './session-tags.js';
export { CustomerPolicyService, policyArnOf, type CustomerPolicyDeps } from './customer-policy-service.js';
export type { CustomerPolicyRecord, CustomerPolicyStore, CustomerPolicyVersionRecord } from './customer-policy-store.js';
