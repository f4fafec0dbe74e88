// NextToken pagination for the access lists: the token carries the keyset position of the last
// row returned, checked against the list's key shape so that a forged token is a clean 400.

import { decodeToken, pageOf, type Page } from '../shared/pagination.js';
import { invalidArgument } from '../shared/errors.js';
import type { Slice } from './access-store.js';

type Shape = readonly ('string' | 'number')[];
/** The key tuple a shape describes: ['number', 'string'] → [number, string]. */
type KeyOf<S extends Shape> = { -readonly [I in keyof S]: S[I] extends 'number' ? number : string };

export interface PageRequest {
  nextToken?: string;
  maxResults?: number;
}

const DEFAULT_PAGE = 100;

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
