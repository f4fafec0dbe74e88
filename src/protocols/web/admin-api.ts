// The administrators' API, SigV4-signed (service `sso`) with an Atrium access key: any user's portal
// sessions, the SCIM bearer tokens, the identity source, the SAML identity provider, and (mfa-api.ts)
// MFA settings and users' MFA devices. Errors have
// the AWS JSON shape.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_SESSIONS_PAGE, SIGNIN_SOURCE, type SessionRecord } from '../../auth/index.js';
import { adminActionOf } from '../../policy/index.js';
import { publicUrlOf } from '../../config/config.js';
import { IDENTITY_SOURCE_TYPES, type InstanceSettings, type PasswordPolicy } from '../../instance/index.js';
import type { SamlIdpConfig } from '../../federation/index.js';
import { SCIM_ADMIN_SOURCE, SCIM_PATH, type ScimTokenInfo } from '../../provisioning/index.js';
import { SAML_METADATA_PATH, spIdentityOf } from '../saml/index.js';
import { fetchIdpMetadata } from '../saml/metadata-url.js';
import { consoleAuthenticator } from '../portal-ui/console-auth.js';
import { readIdpMetadata } from '../saml/samlify.js';
import type { Principal, RequestContext } from '../../shared/context.js';
import { invalidArgument, isDomainError } from '../../shared/errors.js';
import { sendAwsError, validationMessage } from '../aws/aws-json.js';
import { toAwsError } from '../aws/errors.js';
import { checkPolicy, jsonParametersOf } from '../policy-refusal.js';
import { epochSeconds } from '../aws/operation.js';
import type { WebDeps } from './index.js';
import type { Registry } from '../../registry.js';
import { registerMfaAdminRoutes } from './mfa-api.js';

/** No admin request needs more; the signature covers every byte, so the body is kept raw. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

const view = (s: SessionRecord) => ({
  SessionId: s.sessionId,
  UserId: s.userId,
  UserName: s.userName,
  CreatedAt: epochSeconds(s.createdAt),
  ExpiresAt: epochSeconds(s.expiresAt),
  SourceIp: s.sourceIp,
});

const tokenView = (t: ScimTokenInfo) => ({
  TokenId: t.tokenId,
  CreatedAt: epochSeconds(t.createdAt),
  ExpiresAt: epochSeconds(t.expiresAt),
  ...(t.lastUsedAt === null ? {} : { LastUsedAt: epochSeconds(t.lastUsedAt) }),
  Active: t.active,
});

const createTokenInput = z.object({ ExpiresInDays: z.number().optional() }).strict();

/** GET /api/admin/sessions: query parameters, camelCase as `userName` always was; any other is refused. */
const listSessionsQuery = z.strictObject({
  userName: z.string().min(1).max(128).optional(),
  maxResults: z
    .string()
    .regex(/^[0-9]{1,9}$/, `expected a whole number from 1 to ${MAX_SESSIONS_PAGE}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_SESSIONS_PAGE))
    .optional(),
  nextToken: z.string().min(1).max(2048).optional(),
});

/** PUT /api/admin/saml/idp: the IdP's metadata inline or by URL (https), and the SAML options. */
const putSamlIdpInput = z
  .object({
    MetadataXml: z.string().min(1).optional(),
    MetadataUrl: z.string().min(1).max(2048).optional(),
    NameIdMatch: z.enum(['userName', 'email']).optional(),
    IdpInitiated: z.boolean().optional(),
    JitProvisioning: z.boolean().optional(),
    AttributeMapping: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((v) => (v.MetadataXml === undefined) !== (v.MetadataUrl === undefined), { message: 'give exactly one of MetadataXml and MetadataUrl' });
const identitySourceInput = z.object({ IdentitySource: z.enum(IDENTITY_SOURCE_TYPES) }).strict();
const settingsInput = z
  .object({
    SessionDurationMinutes: z.number().int().optional(),
    PasswordPolicy: z
      .object({
        MinLength: z.number().int().optional(),
        MaxLength: z.number().int().optional(),
        RequireUppercase: z.boolean().optional(),
        RequireLowercase: z.boolean().optional(),
        RequireDigit: z.boolean().optional(),
        RequireSymbol: z.boolean().optional(),
        HistorySize: z.number().int().optional(),
        RejectCommon: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const settingsView = (s: InstanceSettings) => ({
  SessionDurationMinutes: s.sessionDurationMinutes,
  PasswordPolicy: {
    MinLength: s.passwordPolicy.minLength,
    MaxLength: s.passwordPolicy.maxLength,
    RequireUppercase: s.passwordPolicy.requireUppercase,
    RequireLowercase: s.passwordPolicy.requireLowercase,
    RequireDigit: s.passwordPolicy.requireDigit,
    RequireSymbol: s.passwordPolicy.requireSymbol,
    HistorySize: s.passwordPolicy.historySize,
    RejectCommon: s.passwordPolicy.rejectCommon,
  },
  IdentitySource: s.identitySource,
});

/** The wire's PascalCase password policy fields, as the domain names them. */
function passwordPolicyChange(p: NonNullable<z.infer<typeof settingsInput>['PasswordPolicy']>): Partial<PasswordPolicy> {
  const names: Record<string, keyof PasswordPolicy> = {
    MinLength: 'minLength',
    MaxLength: 'maxLength',
    RequireUppercase: 'requireUppercase',
    RequireLowercase: 'requireLowercase',
    RequireDigit: 'requireDigit',
    RequireSymbol: 'requireSymbol',
    HistorySize: 'historySize',
    RejectCommon: 'rejectCommon',
  };
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [names[k], v])) as Partial<PasswordPolicy>;
}

/** What a refused change was given: the route's parameters, the query and the body's JSON fields. */
function adminParametersOf(request: FastifyRequest, body: Buffer): unknown {
  const json = jsonParametersOf(body);
  const fields = json !== null && typeof json === 'object' && !Array.isArray(json) ? json : json === null ? {} : { body: json };
  return { ...(request.params as object), ...(request.query as object), ...fields };
}

/** The body as JSON; an empty body is an empty object. */
export function jsonOf(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidArgument('admin.invalid_json', 'The request body is not valid JSON.');
  }
}

/**
 * The body as `schema` reads it. A refused one (not JSON, or not what the schema takes) is on the
 * record under `eventName` too, though it never reached the domain; `recorded` picks what of the
 * body the event keeps.
 */
export async function recordedInput<S extends z.ZodType>(
  reg: Registry,
  ctx: RequestContext,
  eventName: string,
  schema: S,
  body: Buffer,
  recorded: (json: unknown) => unknown = (json) => json,
): Promise<z.infer<S>> {
  let json: unknown;
  try {
    json = jsonOf(body);
  } catch (err) {
    await reg.audit.recordRefusal(ctx, eventName, null, 'ValidationException', (err as Error).message);
    throw err;
  }
  const input = schema.safeParse(json);
  if (input.success) return input.data;
  const message = validationMessage(input.error);
  await reg.audit.recordRefusal(ctx, eventName, recorded(json), 'ValidationException', message);
  throw invalidArgument('admin.validation', message);
}

export function registerAdminApi(app: FastifyInstance, deps: WebDeps): void {
  // Its own scope: raw bodies for SigV4 and AWS-shaped errors, without changing the pages' parsing.
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ADMIN_BODY_BYTES }, (_req, body, next) => next(null, body));
    scope.setErrorHandler((err: { statusCode?: number; code?: string }, request, reply) => {
      reply.header('x-amzn-requestid', request.id);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return sendAwsError(reply, { status: 413, type: 'RequestEntityTooLargeException', message: `The request body exceeds ${MAX_ADMIN_BODY_BYTES} bytes.` }, 'application/json');
      }
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendAwsError(reply, { status: err.statusCode, type: 'SerializationException', message: 'The request could not be read.' }, 'application/json');
      }
      request.log.error({ err }, 'unhandled error in the admin API');
      return sendAwsError(reply, toAwsError(err), 'application/json');
    });
    adminRoutes(scope, deps);
    done();
  });
}

/** The audit event a route's change records: its name, and its source when not the admin API's own (the handler's context carries it too). */
export interface AdminChange {
  eventName: string;
  eventSource?: string;
}

/**
 * A route handler that authenticates the caller (the admin console's session, or a SigV4
 * signature), authorizes the route, then runs `handle` with the caller's context; any refusal is
 * AWS-shaped. A route that changes something names its event (`change`): a change the caller's
 * policies refuse is recorded under it, as AccessDenied, with the route's parameters and body.
 */
export function signedBy({ reg, context }: WebDeps) {
  const viaConsole = consoleAuthenticator(reg);
  return (handle: (request: FastifyRequest, ctx: RequestContext, body: Buffer) => Promise<unknown>, change?: AdminChange) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const route = request.routeOptions.url ?? path;
      const contextOf = async ({ region, ...principal }: Principal & { region: string }): Promise<RequestContext> => ({
        ...(await context(request)),
        ...(change?.eventSource ? { eventSource: change.eventSource } : {}),
        region,
        principal,
      });
      // A change the caller may not make is on the record as AccessDenied, with what it was given.
      const refused = change && (async (caller: Principal & { region: string }) => ({ ctx: await contextOf(caller), eventName: change.eventName, requestParameters: adminParametersOf(request, body) }));
      const fromConsole = await viaConsole(request, { name: `${request.method} ${route}`, readOnly: request.method === 'GET' || request.method === 'HEAD', ...(refused ? { refused } : {}) });
      const caller =
        fromConsole ?? (await reg.credentials.authenticate({ method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body }, ['sso']));
      // A console administrator's grant is checked by the console path; a key's policies here.
      if (!fromConsole) await checkPolicy(reg.audit, () => reg.policy.requireAllowed(caller, adminActionOf(request.method, route)), refused && (() => refused(caller)));
      const result = await handle(request, await contextOf(caller), body);
      return reply.send(result);
    } catch (err) {
      return sendAwsError(reply.header('x-amzn-requestid', request.id), toAwsError(err), 'application/json');
    }
  };
}

function adminRoutes(app: FastifyInstance, deps: WebDeps): void {
  const { reg } = deps;
  const signed = signedBy(deps);
  registerMfaAdminRoutes(app, deps);
  const userNameOf = (request: FastifyRequest) => (request.query as { userName?: string }).userName;
  /** The body checked against `schema`; a refusal is on the audit record under `eventName` too. */
  const inputOf = <S extends z.ZodType>(ctx: RequestContext, eventName: string, schema: S, body: Buffer): Promise<z.infer<S>> => recordedInput(reg, ctx, eventName, schema, body);
  const userNameParam = (request: FastifyRequest) => (request.params as { userName: string }).userName;
  const publicUrl = () => publicUrlOf(reg.config, (app.server.address() as AddressInfo | null)?.port ?? reg.config.port);

  // The instance at a glance, for the console's dashboard.
  app.get(
    '/api/admin/overview',
    signed(async () => {
      const instance = await reg.instance.get();
      const [{ total }, groups, accounts, permissionSets] = await Promise.all([
        reg.directory.listUsersAt(instance.identityStoreId, { offset: 0, limit: 0 }),
        reg.directory.countGroups(instance.identityStoreId),
        reg.organization.countAccounts(),
        reg.access.permissionSets.count(instance.instanceArn),
      ]);
      return {
        InstanceArn: instance.instanceArn,
        IdentityStoreId: instance.identityStoreId,
        Region: instance.region,
        StartUrl: `${publicUrl()}/start`,
        IdentitySource: instance.settings.identitySource,
        UserCount: total,
        GroupCount: groups,
        AccountCount: accounts,
        PermissionSetCount: permissionSets,
      };
    }),
  );
  // Who may use the console (granted from the CLI: atrium admin grant).
  app.get(
    '/api/admin/console/grants',
    signed(async () => ({
      Grants: (await reg.consoleAdmins.listGrants()).map((g) => ({ UserId: g.userId, UserName: g.userName, Policy: g.policy, GrantedAt: epochSeconds(g.grantedAt), GrantedBy: g.grantedBy })),
    })),
  );
  // Portal session duration and password policy (the identity source has its own route).
  app.get('/api/admin/settings', signed(async () => settingsView((await reg.instance.get()).settings)));
  app.put(
    '/api/admin/settings',
    signed(async (_request, ctx, body) => {
      const input = await inputOf(ctx, 'UpdateInstanceSettings', settingsInput, body);
      const next = await reg.instance.updateSettings(ctx, {
        ...(input.SessionDurationMinutes === undefined ? {} : { sessionDurationMinutes: input.SessionDurationMinutes }),
        ...(input.PasswordPolicy ? { passwordPolicy: passwordPolicyChange(input.PasswordPolicy) } : {}),
      });
      return settingsView(next);
    }, { eventName: 'UpdateInstanceSettings' }),
  );
  // A one-time password for a user, shown once; they choose their own at first sign-in. The user is
  // in the path, or in the query (/api/admin/one-time-passwords?userName=, as the console sends it:
  // browsers and fetch resolve a path segment `.` or `..`, even percent-encoded).
  const oneTimePassword = (userNameOf: (request: FastifyRequest) => string | undefined) =>
    signed(async (request, ctx) => {
      const userName = userNameOf(request);
      if (!userName) {
        const refused = invalidArgument('auth.missing_user_name', 'Give the userName to set a one-time password for.');
        await reg.audit.recordRefusal(ctx, 'ResetPassword', {}, refused.code, refused.message);
        throw refused;
      }
      const result = await reg.auth.setPassword(ctx, userName, { oneTime: true });
      return { UserName: result.userName, Password: result.password, OneTime: true };
    }, { eventName: 'ResetPassword' });
  app.post('/api/admin/users/:userName/password', oneTimePassword(userNameParam));
  app.post('/api/admin/one-time-passwords', oneTimePassword(userNameOf));

  // Paged, of one user or of everyone: at 100,000 users one answer of every session is unbounded.
  app.get(
    '/api/admin/sessions',
    signed(async (request) => {
      const q = listSessionsQuery.safeParse(request.query ?? {});
      if (!q.success) throw invalidArgument('admin.validation', validationMessage(q.error));
      const page = await reg.auth.listSessionsPage(q.data);
      return { Sessions: page.items.map(view), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    }),
  );
  app.delete(
    '/api/admin/sessions/:sessionId',
    signed(async (request, ctx) => ({ RevokedSessionIds: await reg.auth.revokeSessions(ctx, { sessionId: (request.params as { sessionId: string }).sessionId }) }), { eventName: 'RevokeSession' }),
  );
  app.delete(
    '/api/admin/sessions',
    signed(async (request, ctx) => {
      const userName = userNameOf(request);
      if (!userName) {
        const refused = invalidArgument('auth.missing_user_name', 'Give the userName whose sessions to revoke.');
        await reg.audit.recordRefusal(ctx, 'RevokeSession', {}, refused.code, refused.message);
        throw refused;
      }
      return { RevokedSessionIds: await reg.auth.revokeSessions(ctx, { userName }) };
    }, { eventName: 'RevokeSession' }),
  );

  // The port is known only once the server listens (tests listen on port 0).
  const scimEndpoint = () => publicUrlOf(reg.config, (app.server.address() as AddressInfo | null)?.port ?? reg.config.port) + SCIM_PATH;
  app.post(
    '/api/admin/scim/tokens',
    signed(async (_request, ctx, body) => {
      const input = await inputOf(ctx, 'CreateBearerToken', createTokenInput, body);
      const issued = await reg.scimTokens.createToken(ctx, { expiresInDays: input.ExpiresInDays });
      return { TokenId: issued.tokenId, Token: issued.token, ExpiresAt: epochSeconds(issued.expiresAt), Endpoint: scimEndpoint() };
    }, { eventName: 'CreateBearerToken', eventSource: SCIM_ADMIN_SOURCE }),
  );
  const samlIdpView = (idp: SamlIdpConfig | undefined) => {
    const publicUrl = publicUrlOf(reg.config, (app.server.address() as AddressInfo | null)?.port ?? reg.config.port);
    const { entityId, acsUrl } = spIdentityOf(publicUrl);
    const sp = { SpEntityId: entityId, SpAcsUrl: acsUrl, SpMetadataUrl: publicUrl + SAML_METADATA_PATH };
    if (!idp) return { IdentityProvider: null, ...sp };
    return {
      IdentityProvider: {
        EntityId: idp.entityId,
        NameIdMatch: idp.nameIdMatch,
        IdpInitiated: idp.options.allowIdpInitiated,
        JitProvisioning: idp.options.jitProvisioning,
        AttributeMapping: idp.options.attributeMapping,
        UpdatedAt: epochSeconds(idp.updatedAt),
      },
      ...sp,
    };
  };
  app.get(
    '/api/admin/saml/idp',
    signed(async () => samlIdpView(await reg.federation.getIdp())),
  );
  app.put(
    '/api/admin/saml/idp',
    signed(async (_request, ctx, body) => {
      // Of a refused body, only the URL is kept: metadata XML is long, and says nothing about who.
      const v = await recordedInput(reg, ctx, 'UpdateSamlIdentityProvider', putSamlIdpInput, body, (json) => ({ MetadataUrl: (json as { MetadataUrl?: unknown } | null)?.MetadataUrl }));
      let metadataXml: string;
      let entityId: string;
      try {
        // Plain http only to a loopback address: the API offers no --allow-http.
        metadataXml = v.MetadataXml ?? (await fetchIdpMetadata(v.MetadataUrl!));
        ({ entityId } = readIdpMetadata(metadataXml));
      } catch (err) {
        if (isDomainError(err)) await reg.audit.recordRefusal(ctx, 'UpdateSamlIdentityProvider', { MetadataUrl: v.MetadataUrl }, err.code, err.message);
        throw err;
      }
      const earlier = await reg.federation.getIdp();
      const options = {
        ...(v.IdpInitiated === undefined ? {} : { allowIdpInitiated: v.IdpInitiated }),
        ...(v.JitProvisioning === undefined ? {} : { jitProvisioning: v.JitProvisioning }),
        ...(v.AttributeMapping ? { attributeMapping: v.AttributeMapping } : {}),
      };
      const saved = await reg.federation.importIdp(ctx, { entityId, metadataXml, nameIdMatch: v.NameIdMatch ?? earlier?.nameIdMatch ?? 'userName', options });
      return samlIdpView(saved);
    }, { eventName: 'UpdateSamlIdentityProvider', eventSource: SIGNIN_SOURCE }),
  );
  app.get(
    '/api/admin/scim/tokens',
    signed(async () => ({ Tokens: (await reg.scimTokens.listTokens()).map(tokenView) })),
  );
  // The identity source: where users sign in (INTERNAL passwords, or the external SAML IdP).
  const identitySourceView = async () => {
    const idp = await reg.federation.getIdp();
    return { IdentitySource: await reg.instance.identitySource(), ...(idp ? { IdentityProviderEntityId: idp.entityId } : {}) };
  };
  app.get('/api/admin/identity-source', signed(identitySourceView));
  app.put(
    '/api/admin/identity-source',
    signed(async (_request, ctx, body) => {
      const input = await inputOf(ctx, 'UpdateIdentitySource', identitySourceInput, body);
      const { previous } = await reg.instance.setIdentitySource(ctx, input.IdentitySource);
      return { ...(await identitySourceView()), PreviousIdentitySource: previous };
    }, { eventName: 'UpdateIdentitySource' }),
  );
  app.delete(
    '/api/admin/scim/tokens/:tokenId',
    signed(async (request, ctx) => {
      await reg.scimTokens.deleteToken(ctx, (request.params as { tokenId: string }).tokenId);
      return {};
    }, { eventName: 'DeleteBearerToken', eventSource: SCIM_ADMIN_SOURCE }),
  );
}
