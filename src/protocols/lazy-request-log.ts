// Fastify gives every request a child logger bound to its request id. Most requests log nothing
// (request logging is off), yet making a pino child costs several microseconds:
// here the child is made on the first line a request logs, with the same bindings and options, so
// what is logged does not change.

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

type Factory = Parameters<FastifyInstance['setChildLoggerFactory']>[0];
type Method = 'info' | 'error' | 'debug' | 'fatal' | 'warn' | 'trace' | 'silent';

class LazyChildLogger {
  private made?: FastifyBaseLogger;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: Record<string, unknown>,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.real.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

for (const method of ['info', 'error', 'debug', 'fatal', 'warn', 'trace', 'silent'] as const satisfies readonly Method[]) {
  Object.defineProperty(LazyChildLogger.prototype, method, {
    value(this: LazyChildLogger, ...args: unknown[]) {
      const real = (this as unknown as { real: FastifyBaseLogger }).real;
      return Reflect.apply(real[method], real, args) as unknown;
    },
  });
}

/** Make the request loggers of this instance's routes (and its plugins', which inherit it) on first use. */
export function useLazyRequestLoggers(scope: FastifyInstance): void {
  const factory: Factory = (logger, bindings, options) => new LazyChildLogger(logger, bindings, options as Record<string, unknown>) as unknown as FastifyBaseLogger;
  scope.setChildLoggerFactory(factory);
}
