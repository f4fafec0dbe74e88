// Opaque NextToken values: keyset positions, base64 so that they match AWS's NextToken pattern.
// A token that does not decode is the client's mistake and gets a clear invalid_argument.

import { invalidArgument } from './errors.js';

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * A keyset value a database can compare: a whole number it can store, or a short string without
 * NUL. Anything else in a token is forged, and must not reach the SQL.
 */
const isKeyValue = (x: unknown) =>
  (typeof x === 'number' && Number.isSafeInteger(x)) || (typeof x === 'string' && x.length <= 512 && !x.includes('\u0000'));

export function encodeToken(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ v: 1, p: position }), 'utf8').toString('base64');
}

export function decodeToken(token: string | undefined): Record<string, string | number> | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (parsed && typeof parsed === 'object' && (parsed as { v?: unknown }).v === 1) {
      const p = (parsed as { p?: unknown }).p;
      if (p && typeof p === 'object' && !Array.isArray(p) && Object.values(p).every(isKeyValue)) {
        return p as Record<string, string | number>;
      }
    }
  } catch {
    // fall through to the error below
  }
  throw invalidArgument('pagination.invalid_token', 'The NextToken is not valid.');
}

/** Given up to limit+1 rows, cut the page and build the token from the last row kept. */
export function pageOf<T>(rows: T[], limit: number, positionOf: (row: T) => Record<string, string | number>): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeToken(positionOf(items[items.length - 1] as T)) };
}
