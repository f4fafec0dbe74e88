// OAuth 2.0 / OpenID Connect core and the AWS sso-oidc adapter: registered on the app.
//
// Decision (issue 3, item 5): the grants (device code, authorization code + PKCE S256, refresh with
// rotation) are our own small service, oidc-service.ts, not oidc-provider 9 mounted through
// @fastify/middie. Why: sso-oidc is camelCase JSON with AWS error names, while oidc-provider's grants
// are reachable only through its own Koa routes (form bodies, snake_case, its own errors and client
// authentication); bridging the two in one session would have left no tested flow. The storage is
// oidc-provider's adapter model (one row per model and id, found by id, user code, uid or grant id;
// consume; revoke by grant), so that oidc-provider can be mounted over the same table later for
// browser OIDC (discovery, ID tokens, /authorize), which is not done.
//
// Others reach the service with `oidcServiceOf(reg)`: a WeakMap keyed by the registry, since a
// Fastify decoration would stay inside this encapsulated plugin.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { publicUrlOf } from '../../config/config.js';
import type { Registry } from '../../registry.js';
import { ssoOidcRoutes } from '../aws/sso-oidc.js';
import { OidcService } from './oidc-service.js';

export {
  AUTHORIZATION_CODE_GRANT,
  DEVICE_CODE_GRANT,
  normalizeUserCode,
  OidcService,
  REFRESH_TOKEN_GRANT,
  type AuthorizationRequest,
  type DeviceApprover,
  type PendingDevice,
  type ResolvedAccessToken,
} from './oidc-service.js';

const services = new WeakMap<Registry, OidcService>();

/** The OAuth service of a registry whose app has been built. */
export function oidcServiceOf(reg: Registry): OidcService {
  const service = services.get(reg);
  if (!service) throw new Error('registerOidc has not run for this registry');
  return service;
}

export function registerOidc(app: FastifyInstance, reg: Registry): Promise<void> {
  // The port is known only once the server listens (tests listen on port 0).
  const port = () => (app.server.address() as AddressInfo | null)?.port ?? reg.config.port;
  const service = new OidcService({
    tx: reg.tx,
    read: reg.read,
    clock: reg.clock,
    ids: reg.ids,
    instance: reg.instance,
    publicUrl: () => publicUrlOf(reg.config, port()),
  });
  services.set(reg, service);
  // Not awaited: awaiting would load the app's routes declared so far before app.ts sets its error handler.
  void app.register((scope, _opts, done) => {
    ssoOidcRoutes(scope, { oidc: service, audit: reg.audit, region: reg.config.region });
    done();
  });
  return Promise.resolve();
}
