// Browser routes: sign-in pages, password change, portal session pages.

import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../registry.js';

export async function registerWeb(_app: FastifyInstance, _reg: Registry): Promise<void> {}
