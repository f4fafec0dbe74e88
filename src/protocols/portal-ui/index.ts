// The access portal's React app (web/, built by Vite into dist/web) and the JSON routes it reads.

import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../registry.js';

export async function registerPortalUi(_app: FastifyInstance, _reg: Registry): Promise<void> {}
