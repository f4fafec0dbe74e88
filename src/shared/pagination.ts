// Opaque NextToken values: keyset positions, base64 so that they match AWS's NextToken pattern.
// A token that does not decode, or does not fit the list's key, is the client's mistake and gets a
// clear invalid_argument.

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

/** Keyset pagination: rows after `after` (the key of the last row of the previous page), at most `limit`. */
export interface Slice<K extends (string | number)[]> {
  after?: K;
  limit: number;
}

export interface PageRequest {
  nextToken?: string;
  maxResults?: number;
}

type Shape = readonly ('string' | 'number')[];
/** The key tuple a shape describes: ['number', 'string'] → [number, string]. */
type KeyOf<S extends Shape> = { -readonly [I in keyof S]: S[I] extends 'number' ? number : string };

/** Rows a page holds when the caller does not say. */
export const DEFAULT_PAGE = 100;

function keyFromToken<S extends Shape>(token: string | undefined, shape: S): KeyOf<S> | undefined {
  const position = decodeToken(token);
  if (position === undefined) return undefined;
  const key = shape.map((_, i) => position[String(i)]);
  if (Object.keys(position).length !== shape.length || key.some((v, i) => typeof v !== shape[i])) {
    throw invalidArgument('pagination.invalid_token', 'The NextToken is not valid for this list.');
  }
  return key as KeyOf<S>;
}

/** Fetch one page through `fetch` (which returns up to slice.limit rows), keyed by `keyOf`. */
export async function pageThrough<T, const S extends Shape>(
  request: PageRequest,
  shape: S,
  fetch: (slice: Slice<KeyOf<S>>) => Promise<T[]>,
  keyOf: (row: T) => KeyOf<S>,
): Promise<Page<T>> {
  const limit = request.maxResults ?? DEFAULT_PAGE;
  const after = keyFromToken(request.nextToken, shape);
  const rows = await fetch({ ...(after ? { after } : {}), limit: limit + 1 });
  return pageOf(rows, limit, (row) => Object.fromEntries(keyOf(row).map((v, i) => [String(i), v])));
}
