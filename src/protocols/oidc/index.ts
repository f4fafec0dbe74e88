// OAuth 2.0 / OpenID Connect core and the AWS sso-oidc adapter: registered on the app.

import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../registry.js';

export async function registerOidc(_app: FastifyInstance, _reg: Registry): Promise<void> {}
