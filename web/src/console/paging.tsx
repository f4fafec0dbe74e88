// Lists paged on the server: one page of a NextToken-paged API at a time, with Cloudscape's
// pagination control, so a page shows everything however many there are without loading it all.

import Pagination from '@cloudscape-design/components/pagination';
import TextFilter from '@cloudscape-design/components/text-filter';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { aws, messageOf } from './api.js';
import type { Async } from './parts.js';

/** One page of a paged API, as the console reads it. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}
/** Fetch the page that starts at `nextToken` (undefined: the first), at most `maxResults` long. */
export type FetchPage<T> = (nextToken: string | undefined, maxResults: number) => Promise<Page<T>>;

export const PAGE_SIZE = 50;

export interface Position {
  key: string;
  /** The NextToken each page seen so far starts at: page n (1-based) starts at tokens[n - 1]. */
  tokens: (string | undefined)[];
  index: number;
  /** Whether the last page in `tokens` answered without a NextToken. */
  end: boolean;
}
const start = (key: string): Position => ({ key, tokens: [undefined], index: 1, end: false });

/**
 * Where a list was (its page, and the tokens that reach it), kept by a parent while the list is not
 * shown (a wizard's earlier step, another tab), so that coming back finds it where it was left.
 */
export interface PageMemory {
  current?: Position;
}

/**
 * The current page of a server-paged list. Changing `deps` (a filter, the parent's id) starts
 * again at page 1; `reload()` fetches the current page again (after a change to one of its rows).
 * `pagination` is the control for the table's `pagination` slot.
 */
export function useServerPages<T>(
  fetchPage: FetchPage<T>,
  deps: unknown[],
  pageSize = PAGE_SIZE,
  memory?: PageMemory,
): { page: Async<T[]>; items: T[]; reload: () => void; pagination: ReactNode } {
  const key = JSON.stringify(deps);
  const [stored, setPosition] = useState<Position>(() => (memory?.current?.key === key ? memory.current : start(key)));
  const setStored = (next: Position | ((p: Position) => Position)) =>
    setPosition((prev) => {
      const value = typeof next === 'function' ? next(prev) : next;
      if (memory) memory.current = value;
      return value;
    });
  const at = stored.key === key ? stored : start(key);
  if (stored.key !== key) setStored(at);
  const [tick, setTick] = useState(0);
  // The answer and the page it answers (so a page never shows another's rows while it loads).
  const showing = `${key}#${at.index}#${tick}`;
  const [answer, setAnswer] = useState<{ for: string; page: Async<T[]> }>();
  const page: Async<T[]> = answer?.for === showing ? answer.page : { state: 'loading' };

  useEffect(() => {
    let live = true;
    fetchPage(at.tokens[at.index - 1], pageSize).then(
      ({ items, nextToken }) => {
        if (!live) return;
        setAnswer({ for: showing, page: { state: 'ready', value: items } });
        setStored((s) => {
          if (s.key !== key || s.index !== at.index || s.tokens.length !== at.index) return s;
          return nextToken ? { ...s, tokens: [...s.tokens, nextToken], end: false } : { ...s, end: true };
        });
      },
      (err: unknown) => live && setAnswer({ for: showing, page: { state: 'failed', message: messageOf(err) } }),
    );
    return () => {
      live = false;
    };
  }, [showing]);

  const pagination = (
    <Pagination
      currentPageIndex={at.index}
      pagesCount={at.tokens.length}
      openEnd={!at.end}
      disabled={page.state === 'loading'}
      onChange={({ detail }) => setStored({ ...at, index: Math.min(Math.max(detail.currentPageIndex, 1), at.tokens.length) })}
      ariaLabels={{ nextPageLabel: 'Next page', previousPageLabel: 'Previous page', pageLabel: (n) => `Page ${n}` }}
    />
  );
  return { page, items: page.state === 'ready' ? page.value : [], reload: useCallback(() => setTick((t) => t + 1), []), pagination };
}


/** A search box for a paged list that finds by exact name on the server: `onApply` hears the trimmed text once typing pauses. */
export function NameFilter({ label, onApply, initial = '' }: { label: string; onApply: (text: string) => void; initial?: string }) {
  const [text, setText] = useState(initial);
  return (
    <TextFilter
      filteringText={text}
      filteringPlaceholder={label}
      filteringAriaLabel={label}
      filteringClearAriaLabel="Clear the search"
      onChange={({ detail }) => setText(detail.filteringText)}
      onDelayedChange={({ detail }) => onApply(detail.filteringText.trim())}
    />
  );
}

const DIRECTORY_LISTS = { Users: ['ListUsers', 'UserName'], Groups: ['ListGroups', 'DisplayName'] } as const;

/** One page of identitystore ListUsers or ListGroups; only the one named `name` exactly (UserName, DisplayName) when given. */
export async function directoryPage<T>(kind: keyof typeof DIRECTORY_LISTS, IdentityStoreId: string, name: string, NextToken: string | undefined, MaxResults: number): Promise<Page<T>> {
  const [operation, AttributePath] = DIRECTORY_LISTS[kind];
  const r = await aws<Partial<Record<typeof kind, T[]>> & { NextToken?: string }>('identitystore', operation, {
    IdentityStoreId,
    MaxResults,
    NextToken,
    ...(name ? { Filters: [{ AttributePath, AttributeValue: name }] } : {}),
  });
  return { items: r[kind] ?? [], nextToken: r.NextToken };
}
