// One logger for the process. Secrets are redacted by path as a second line of defence;
// the first is never to pass them to the logger at all.

import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-amz-security-token"]',
        'req.headers["x-amz-sso_bearer_token"]',
        '*.secretAccessKey',
        '*.SecretAccessKey',
        '*.password',
      ],
      censor: '[redacted]',
    },
  }, pino.destination({ fd: 2, sync: false }));
}
