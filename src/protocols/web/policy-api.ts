// The policy engine over HTTP: POST /authorize for gateways (a SigV4-signed request plus the action
// and resource it maps to → allow or deny, with the deciding statement), and the administrators'
// simulate / effective-access / validate routes, signed with an Atrium access key (service `sso`).

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallerPrincipal, SignedRequest } from '../../credentials/index.js';
import type { Registry } from '../../registry.js';
import { invalidArgument } from '../../shared/errors.js';
import { adminActionOf, validatePolicy, type Decision } from '../../policy/index.js';
import { sendAwsError, validationMessage } from '../aws/aws-json.js';
import { toAwsError } from '../aws/errors.js';
import { authorizeAction, authorizeContext, authorizeInput, authorizeResource, plainlyValidAuthorizeInput } from './authorize-input.js';

const MAX_BODY_BYTES = 64 * 1024;

const simulateInput = z
  .object({ UserName: z.string().min(1).max(128), AccountId: z.string(), Action: authorizeAction.optional(), Resource: authorizeResource.optional(), Context: authorizeContext.optional() })
  .strict();
const validateInput = z.object({ PolicyDocument: z.string().min(1) }).strict();

/** The body, checked by `schema`; `plainlyValid` may vouch for a body first, sparing the schema's walk. */
function parse<T>(schema: z.ZodType<T>, body: Buffer, plainlyValid?: (json: unknown) => T | undefined): T {
  let json: unknown;
  try {
    json = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidArgument('policy.invalid_json', 'The request body is not valid JSON.');
  }
  const vouched = plainlyValid?.(json);
  if (vouched !== undefined) return vouched;
  const r = schema.safeParse(json);
  if (!r.success) throw invalidArgument('policy.invalid_request', validationMessage(r.error));
  return r.data;
}

const statementView = (st: { policyId: string; sid?: string; index: number; effect: string }) =>
  st.sid ? { PolicyId: st.policyId, Sid: st.sid, Index: st.index, Effect: st.effect } : { PolicyId: st.policyId, Index: st.index, Effect: st.effect };

/** POST /authorize's answer: the decision and its deciding statement (or why none), who asked, and by what policies. */
function authorizeView(d: Decision & ({ permissionSetArn: string } | { policyArns: string[] }), principal: CallerPrincipal): Record<string, unknown> {
  const view: Record<string, unknown> = { Decision: d.decision, Allowed: d.allowed };
  if ('statement' in d) view.Statement = statementView(d.statement);
  else view.Reason = d.reason;
  view.Principal = { Arn: principal.arn, AccountId: principal.accountId, AccessKeyId: principal.accessKeyId };
  if ('permissionSetArn' in d) view.PermissionSetArn = d.permissionSetArn;
  else view.PolicyArns = d.policyArns;
  return view;
}

/** The service in a SigV4 Authorization header's credential scope; the signature is checked for it. */
const scopedService = (authorization: string | undefined) => /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([a-z0-9-]{1,64})\/aws4_request/.exec(authorization ?? '')?.[1];

/** Headers by lower-case name; of names that differ only in case, the last one given. */
function lowerCaseNames(given: Record<string, string>): Record<string, string> {
  // No prototype: a header named __proto__ is a header like any other.
  const headers = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(given)) headers[name.toLowerCase()] = given[name]!;
  return headers;
}

export function registerPolicyApi(app: FastifyInstance, reg: Registry): void {
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    const asBuffer = (_req: FastifyRequest, body: Buffer, next: (err: null, body: Buffer) => void) => next(null, body);
    // Any media type is read as bytes. JSON, which gateways send, is named too: Fastify remembers
    // which parser a named type takes, but parses the Content-Type of every request that falls to '*'.
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, asBuffer);
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, asBuffer);
    scope.setErrorHandler((err: { statusCode?: number }, request, reply) => {
      reply.header('x-amzn-requestid', request.id);
      if (err.statusCode === 413) return sendAwsError(reply, { status: 413, type: 'RequestEntityTooLargeException', message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` }, 'application/json');
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendAwsError(reply, { status: err.statusCode, type: 'SerializationException', message: 'The request could not be read.' }, 'application/json');
      }
      request.log.error({ err }, 'unhandled error in the policy API');
      return sendAwsError(reply, toAwsError(err), 'application/json');
    });
    policyRoutes(scope, reg);
    done();
  });
}

function policyRoutes(app: FastifyInstance, reg: Registry): void {
  const body = (request: FastifyRequest) => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
  const answer = (handle: (request: FastifyRequest) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return reply.send(await handle(request));
    } catch (err) {
      return sendAwsError(reply.header('x-amzn-requestid', request.id), toAwsError(err), 'application/json');
    }
  };
  /** Administrators' routes: signed with an Atrium access key, like the rest of the admin API. */
  const signed = (handle: (request: FastifyRequest) => Promise<unknown>) =>
    answer(async (request) => {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const principal = await reg.credentials.authenticate({ method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body: body(request) }, ['sso']);
      // Simulating and validating change nothing: reads, which ReadOnlyAccess allows.
      await reg.policy.requireAllowed(principal, adminActionOf(request.method, request.routeOptions.url ?? path, true));
      return handle(request);
    });

  app.post(
    '/authorize',
    answer(async (request) => {
      const input = parse(authorizeInput, body(request), plainlyValidAuthorizeInput);
      const headers = lowerCaseNames(input.Headers);
      const service = scopedService(headers.authorization);
      if (!service) throw invalidArgument('policy.unsigned_request', 'Headers must carry a SigV4 Authorization header.');
      const signedRequest: SignedRequest = {
        method: input.Method,
        path: input.Path,
        query: input.Query ?? '',
        headers,
        // Neither Body nor BodySha256: the body is unknown (S3's signed x-amz-content-sha256 stands).
        body: input.Body === undefined ? undefined : Buffer.from(input.Body, 'base64'),
        bodySha256: input.BodySha256,
      };
      // The request went to the gateway's service, in its region: the signature's scope names it.
      const { principal, session } = await reg.temporaryCredentials.authenticateSession(signedRequest, [service], { anyRegion: true });
      // aws:SourceIp is the gateway's to give, in Context: the relayed headers (X-Forwarded-For) are
      // the client's own, and would let it claim any address. aws:RequestedRegion is the signed
      // region's, whatever the Context says.
      const given = Object.fromEntries(Object.entries(input.Context ?? {}).filter(([key]) => key.toLowerCase() !== 'aws:requestedregion'));
      const request_ = { action: input.Action, resource: input.Resource, context: { ...given, 'aws:RequestedRegion': principal.region } };
      const decision = session
        ? await reg.policy.authorizeSession(
            { userId: session.userId, userName: principal.userName ?? '', accountId: principal.accountId, principalId: principal.principalId, permissionSetArn: session.permissionSetArn, issuedAt: session.issuedAt, roleName: session.roleName, tags: session.tags },
            request_,
          )
        : await reg.policy.authorizeAccessKey(principal, request_);
      return authorizeView(decision, principal);
    }),
  );

  app.post(
    '/api/admin/policy/simulate',
    signed(async (request) => {
      const input = parse(simulateInput, body(request));
      if (!input.Action) {
        const held = await reg.policy.effectiveAccess(input.UserName, input.AccountId);
        return {
          PermissionSets: held.map((p) => ({
            PermissionSetArn: p.permissionSetArn,
            Name: p.name,
            Via: p.via.map((v) => ({ PrincipalType: v.principalType, PrincipalId: v.principalId, ...(v.groupName ? { GroupName: v.groupName } : {}) })),
            UnresolvedPolicies: p.unresolvedPolicies,
          })),
        };
      }
      const r = await reg.policy.simulate({ userName: input.UserName, accountId: input.AccountId, action: input.Action, resource: input.Resource ?? '*', ...(input.Context ? { context: input.Context } : {}) });
      return {
        Decision: r.decision,
        Allowed: r.allowed,
        ...(r.permissionSetArn ? { PermissionSetArn: r.permissionSetArn, PermissionSetName: r.permissionSetName } : {}),
        ...(r.statement ? { Statement: statementView(r.statement) } : {}),
        // Why a set denied, and what in it does not resolve: a missing boundary or an unreadable policy denies everything.
        PermissionSets: r.permissionSets.map((p) => ({ PermissionSetArn: p.permissionSetArn, Name: p.name, Decision: p.decision, ...(p.reason ? { Reason: p.reason } : {}), UnresolvedPolicies: p.unresolvedPolicies })),
      };
    }),
  );

  app.post(
    '/api/admin/policy/validate',
    signed(async (request) => {
      const findings = await validatePolicy(parse(validateInput, body(request)).PolicyDocument);
      return { Findings: findings.map((f) => ({ FindingType: f.findingType, IssueCode: f.issueCode, Message: f.message, Location: f.location })) };
    }),
  );
}
