// The AWS IAM API subset for customer-managed policies (awsQuery: form POST /, XML replies,
// signing name `iam`): CreatePolicy, CreatePolicyVersion, GetPolicy, GetPolicyVersion,
// ListPolicies, ListPolicyVersions, SetDefaultPolicyVersion, DeletePolicyVersion, DeletePolicy.
// Policies live in the signer's account; AWS managed policies read too.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { findManagedPolicy, listManagedPolicies, managedPolicyDocument, policyArnOf, type CustomerPolicyRecord } from '../../policy/index.js';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { DomainError, invalidArgument, isDomainError } from '../../shared/errors.js';
import { checkPolicy } from '../policy-refusal.js';
import { IAM_XMLNS, sendQueryError, xmlText, type QueryError } from './aws-query.js';

const XMLNS = IAM_XMLNS;
const VERSION = '2010-05-08';
const AWS_POLICY_PREFIX = 'arn:aws:iam::aws:policy/';

const xml = xmlText;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const el = (name: string, value: string | number | boolean | null | undefined) => (value === null || value === undefined ? '' : `<${name}>${xml(String(value))}</${name}>`);

type IamError = QueryError;

/** IAM's error codes for the domain's errors. */
function toIamError(err: unknown): IamError {
  if (!isDomainError(err)) return { status: 500, code: 'ServiceFailure', message: 'An internal error occurred.' };
  const byCode: Record<string, [number, string]> = {
    'policy.malformed_document': [400, 'MalformedPolicyDocument'],
    'policy.document_too_large': [409, 'LimitExceeded'],
    'policy.delete_conflict': [409, 'DeleteConflict'],
    'policy.concurrent_modification': [409, 'ConcurrentModification'],
    'policy.invalid_version_id': [400, 'ValidationError'],
  };
  const byKind: Record<string, [number, string]> = {
    not_found: [404, 'NoSuchEntity'],
    already_exists: [409, 'EntityAlreadyExists'],
    invalid_argument: [400, 'InvalidInput'],
    quota_exceeded: [409, 'LimitExceeded'],
    failed_precondition: [409, 'ConcurrentModification'],
    permission_denied: [403, 'AccessDenied'],
    unavailable: [503, 'ServiceUnavailable'],
    unauthenticated: [403, err.code === 'auth.token_expired' ? 'ExpiredToken' : err.code.startsWith('auth.signature') || err.code === 'auth.expired' ? 'SignatureDoesNotMatch' : 'InvalidClientTokenId'],
  };
  const [status, code] = byCode[err.code] ?? byKind[err.kind] ?? [500, 'ServiceFailure'];
  return { status, code, message: status >= 500 && err.kind !== 'unavailable' ? 'An internal error occurred.' : err.message };
}

const sendError = (reply: FastifyReply, e: IamError, requestId: string) => sendQueryError(reply, XMLNS, e, requestId);

function policyXml(p: CustomerPolicyRecord): string {
  return (
    `<PolicyName>${xml(p.policyName)}</PolicyName><DefaultVersionId>${p.defaultVersionId}</DefaultVersionId><PolicyId>${p.policyId}</PolicyId>` +
    `<Path>${xml(p.path)}</Path><Arn>${xml(p.policyArn)}</Arn><AttachmentCount>0</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>` +
    `<IsAttachable>true</IsAttachable>${el('Description', p.description)}<CreateDate>${iso(p.createdAt)}</CreateDate><UpdateDate>${iso(p.updatedAt)}</UpdateDate>`
  );
}

/** An AWS managed policy as IAM lists it; the catalogue keeps no id or dates, so these are stable stand-ins. */
function managedRecord(m: { arn: string; name: string; path: string; defaultVersion: string }): CustomerPolicyRecord {
  let h = 0;
  for (const c of m.arn) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return { policyArn: m.arn, accountId: 'aws', policyName: m.name, path: m.path, policyId: `ANPA${h.toString(16).toUpperCase().padStart(17, '0')}`, description: null, defaultVersionId: m.defaultVersion, nextVersion: 0, createdAt: 0, updatedAt: 0 };
}

/** A policy version: the result's `PolicyVersion`, or a list's `member`. */
const versionXml = (v: { versionId: string; isDefault: boolean; createdAt: number; document?: string }, tag = 'PolicyVersion') =>
  `<${tag}>${v.document === undefined ? '' : el('Document', encodeURIComponent(v.document))}<VersionId>${v.versionId}</VersionId>` +
  `<IsDefaultVersion>${v.isDefault}</IsDefaultVersion><CreateDate>${iso(v.createdAt)}</CreateDate></${tag}>`;

function required(form: URLSearchParams, name: string): string {
  const v = form.get(name);
  if (v === null || v === '') throw new DomainError('invalid_argument', 'policy.missing_parameter', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

/** Whether an IAM action only reads (Get…, List…, as IAM names them): a refused read is not recorded, as reads are not. */
export const isIamRead = (action: string) => /^(Get|List)[A-Z]/.test(action);

/** A form's parameters as the trail records them: the operation's own, without Action and Version. */
const formParameters = (form: URLSearchParams) => Object.fromEntries([...form].filter(([k]) => k !== 'Action' && k !== 'Version'));

type Operation = (form: URLSearchParams, account: string, ctx: RequestContext) => Promise<string>;

/**
 * The resource a call acts on, as IAM authorizes it: the policy it names, or for CreatePolicy the
 * ARN the new policy will have (a Deny on a path must hold for policies created there).
 */
export function iamResourceOf(action: string, form: URLSearchParams, accountId: string): string {
  if (action === 'CreatePolicy') return policyArnOf(accountId, form.get('Path') || '/', form.get('PolicyName') ?? '');
  return form.get('PolicyArn') ?? '*';
}

export function operations(reg: Registry): Record<string, Operation> {
  const cmp = reg.customerPolicies;
  return {
    CreatePolicy: async (form, account, ctx) => {
      const p = await cmp.createPolicy(ctx, account, {
        policyName: required(form, 'PolicyName'),
        policyDocument: required(form, 'PolicyDocument'),
        ...(form.get('Path') ? { path: form.get('Path')! } : {}),
        ...(form.get('Description') !== null ? { description: form.get('Description')! } : {}),
      });
      return `<Policy>${policyXml(p)}</Policy>`;
    },
    CreatePolicyVersion: async (form, account, ctx) => {
      const v = await cmp.createPolicyVersion(ctx, account, { policyArn: required(form, 'PolicyArn'), policyDocument: required(form, 'PolicyDocument'), setAsDefault: form.get('SetAsDefault') === 'true' });
      return versionXml({ versionId: v.versionId, isDefault: v.isDefault, createdAt: v.createdAt });
    },
    GetPolicy: async (form, account) => {
      const arn = required(form, 'PolicyArn');
      if (arn.startsWith(AWS_POLICY_PREFIX)) {
        const m = await findManagedPolicy(arn);
        if (!m) throw new DomainError('not_found', 'policy.no_such_entity', `Policy ${arn} does not exist or is not attachable.`);
        return `<Policy>${policyXml(managedRecord(m))}</Policy>`;
      }
      return `<Policy>${policyXml(await cmp.getPolicy(account, arn))}</Policy>`;
    },
    GetPolicyVersion: async (form, account) => {
      const arn = required(form, 'PolicyArn');
      const versionId = required(form, 'VersionId');
      if (arn.startsWith(AWS_POLICY_PREFIX)) {
        const m = await findManagedPolicy(arn);
        const document = m && m.defaultVersion === versionId ? await managedPolicyDocument(arn) : undefined;
        if (!document) throw new DomainError('not_found', 'policy.no_such_entity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
        return versionXml({ versionId, isDefault: true, createdAt: 0, document });
      }
      const v = await cmp.getPolicyVersion(account, arn, versionId);
      return versionXml({ versionId: v.versionId, isDefault: v.isDefault, createdAt: v.createdAt, document: v.document });
    },
    ListPolicies: async (form, account) => {
      const scope = form.get('Scope') ?? 'All';
      if (!['All', 'AWS', 'Local'].includes(scope)) throw invalidArgument('policy.invalid_scope', 'Scope must be All, AWS or Local.');
      const pathPrefix = form.get('PathPrefix') ?? '/';
      const maxItems = Number(form.get('MaxItems') ?? 100);
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) throw invalidArgument('policy.invalid_max_items', 'MaxItems must be 1 to 1000.');
      // Marker: `L:<name>` (after a local policy) or `A:<arn>` (after an AWS one).
      const marker = form.get('Marker');
      if (marker !== null && !/^[LA]:/.test(marker)) throw invalidArgument('policy.invalid_marker', 'The Marker is not valid.');
      const rows: CustomerPolicyRecord[] = [];
      if (scope !== 'AWS' && !marker?.startsWith('A:')) rows.push(...(await cmp.listPolicies(account, pathPrefix, marker?.slice(2), maxItems + 1)));
      if (scope !== 'Local' && rows.length <= maxItems) {
        const after = marker?.startsWith('A:') ? marker.slice(2) : undefined;
        const managed = (await listManagedPolicies()).filter((m) => m.path.startsWith(pathPrefix) && (after === undefined || m.arn > after));
        rows.push(...managed.slice(0, maxItems + 1 - rows.length).map(managedRecord));
      }
      const page = rows.slice(0, maxItems);
      const last = page.at(-1);
      const truncated = rows.length > maxItems && last !== undefined;
      const next = truncated ? (last.accountId === 'aws' ? `A:${last.policyArn}` : `L:${last.policyName}`) : undefined;
      return `<IsTruncated>${truncated}</IsTruncated>${el('Marker', next)}<Policies>${page.map((p) => `<member>${policyXml(p)}</member>`).join('')}</Policies>`;
    },
    ListPolicyVersions: async (form, account) => {
      const arn = required(form, 'PolicyArn');
      let versions: { versionId: string; isDefault: boolean; createdAt: number }[];
      if (arn.startsWith(AWS_POLICY_PREFIX)) {
        // The catalogue keeps an AWS managed policy's default version only.
        const m = await findManagedPolicy(arn);
        if (!m) throw new DomainError('not_found', 'policy.no_such_entity', `Policy ${arn} does not exist or is not attachable.`);
        versions = [{ versionId: m.defaultVersion, isDefault: true, createdAt: 0 }];
      } else versions = await cmp.listPolicyVersions(account, arn);
      // Newest first, as IAM lists them; a policy has at most five, so one page holds them all.
      return `<IsTruncated>false</IsTruncated><Versions>${[...versions].reverse().map((v) => versionXml(v, 'member')).join('')}</Versions>`;
    },
    SetDefaultPolicyVersion: async (form, account, ctx) => {
      await cmp.setDefaultPolicyVersion(ctx, account, { policyArn: required(form, 'PolicyArn'), versionId: required(form, 'VersionId') });
      return '';
    },
    DeletePolicyVersion: async (form, account, ctx) => {
      await cmp.deletePolicyVersion(ctx, account, { policyArn: required(form, 'PolicyArn'), versionId: required(form, 'VersionId') });
      return '';
    },
    DeletePolicy: async (form, account, ctx) => {
      await cmp.deletePolicy(ctx, account, required(form, 'PolicyArn'));
      return '';
    },
  };
}

/** The service a SigV4 request is scoped to, read before verifying it: IAM and STS share POST /. */
export function iamQueryHandler(reg: Registry): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const ops = operations(reg);
  return async (request, reply) => {
    const requestId = request.id;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const { principal, session } = await reg.temporaryCredentials.authenticateSession(
        { method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body },
        ['iam'],
      );
      const form = new URLSearchParams(body.toString('utf8'));
      const action = form.get('Action') ?? '';
      const op = Object.hasOwn(ops, action) ? ops[action] : undefined;
      if (!op || form.get('Version') !== VERSION) {
        return sendError(reply, { status: 400, code: 'InvalidAction', message: `Could not find operation ${action || '(none)'} for version ${form.get('Version') ?? '(none)'}` }, requestId);
      }
      const { region, ...who } = principal;
      const ctx: RequestContext = { requestId, sourceIp: request.ip, userAgent: request.headers['user-agent'] ?? '', region, eventSource: 'iam.amazonaws.com', principal: who };
      const authorize = async () => {
        if (!session) return reg.policy.requireAllowed(principal, `iam:${action}`);
        const d = await reg.policy.authorizeSession(
          { userId: session.userId, userName: principal.userName ?? '', accountId: principal.accountId, principalId: principal.principalId, permissionSetArn: session.permissionSetArn, issuedAt: session.issuedAt, roleName: session.roleName, ...(session.tags ? { tags: session.tags } : {}) },
          { action: `iam:${action}`, resource: iamResourceOf(action, form, principal.accountId) },
        );
        if (!d.allowed) throw new DomainError('permission_denied', 'policy.access_denied', `User: ${principal.arn} is not authorized to perform: iam:${action}`);
      };
      // A change the caller's policies refuse is on the record as AccessDenied, with what it was given.
      await checkPolicy(reg.audit, authorize, isIamRead(action) ? undefined : () => ({ ctx, eventName: action, requestParameters: formParameters(form) }));
      const result = await op(form, principal.accountId, ctx);
      return reply
        .header('content-type', 'text/xml')
        .send(`<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`);
    } catch (err) {
      if (!isDomainError(err)) request.log.error({ err }, 'unexpected error in IAM');
      return sendError(reply, toIamError(err), requestId);
    }
  };
}
