// The AWS `sso` portal API (restJson1, bearer token in x-amz-sso_bearer_token): ListAccounts,
// ListAccountRoles, GetRoleCredentials, Logout.

import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../registry.js';

export function registerSsoPortal(_app: FastifyInstance, _reg: Registry): void {}
