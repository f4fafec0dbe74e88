import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { busyReporter } from './busy-report.js';

describe('busyReporter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('warns at the first refusal, then once a window with the count and codes of the refusals since, and not at all when quiet', () => {
    const lines: object[] = [];
    const report = busyReporter({ warn: (obj) => lines.push(obj) }, 10_000);

    report('SQLITE_BUSY');
    expect(lines).toEqual([{ refused: 1, codes: ['SQLITE_BUSY'], windowSeconds: 10 }]);

    // A burst inside the window is counted, not logged line by line.
    for (let i = 0; i < 40; i++) report(i % 2 ? 'SQLITE_BUSY' : 'SQLITE_BUSY_SNAPSHOT');
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual([
      { refused: 1, codes: ['SQLITE_BUSY'], windowSeconds: 10 },
      { refused: 40, codes: ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT'], windowSeconds: 10 },
    ]);

    // Nothing refused in the next window: no line, and the one after a quiet spell comes at once.
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
    report('55P03');
    expect(lines.at(-1)).toEqual({ refused: 1, codes: ['55P03'], windowSeconds: 10 });
  });
});
