// A request's logger made on first use logs the same lines, with the request id, as Fastify's own.

import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { useLazyRequestLoggers } from './lazy-request-log.js';

describe('lazy request loggers', () => {
  it('log the same lines, with the request id and a child\'s own bindings', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const root = pino({ level: 'info' }, sink) as FastifyBaseLogger;
    const app = Fastify({ loggerInstance: root, disableRequestLogging: true, genReqId: () => 'req-1' });
    await app.register((scope, _opts, done) => {
      useLazyRequestLoggers(scope);
      scope.get('/quiet', () => Promise.resolve('ok'));
      scope.get('/loud', (request) => {
        request.log.warn({ detail: 1 }, 'something odd');
        request.log.child({ step: 'inner' }).error('inner failure');
        return Promise.resolve('ok');
      });
      done();
    });
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect((await app.inject('/loud')).statusCode).toBe(200);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-1', detail: 1, msg: 'something odd' }),
      expect.objectContaining({ level: 50, reqId: 'req-1', step: 'inner', msg: 'inner failure' }),
    ]);
    await app.close();
  });
});
