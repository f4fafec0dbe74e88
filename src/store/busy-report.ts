// A write refused because the database was busy (SQLite's lock held past busy_timeout, or
// PostgreSQL's lock timeout, serialization failure, too many connections…) is answered 503 "retry"
// (stores.ts): the client retries and nothing is half-written, but whoever runs Atrium needs to
// know it happens. One warning at once, then at most one per window, counting the refusals since
// the last line and naming the database's error codes; a quiet spell logs nothing. Each registry
// has its own (serve's audit sealer thread has one too, for its background writes).

export const BUSY_REPORT_MS = 10_000;

export interface BusyLog {
  warn(obj: object, msg: string): void;
}

/** Call with the database's error code at each refused write. */
export type BusyReport = (code: string) => void;

export function busyReporter(log: BusyLog, everyMs = BUSY_REPORT_MS): BusyReport {
  let refused = 0;
  let codes = new Set<string>();
  let window: NodeJS.Timeout | undefined;
  const flush = () => {
    window = undefined;
    if (refused === 0) return;
    log.warn(
      { refused, codes: [...codes].sort(), windowSeconds: everyMs / 1000 },
      'writes were refused because the database was busy (a request is answered 503 "retry", background work tries again later); if this persists, look for a long transaction, another process writing to the SQLite file, or an exhausted PostgreSQL',
    );
    refused = 0;
    codes = new Set();
    // A line starts a window in which further refusals are only counted.
    window = setTimeout(flush, everyMs);
    window.unref();
  };
  return (code) => {
    refused++;
    codes.add(code);
    if (!window) flush();
  };
}
