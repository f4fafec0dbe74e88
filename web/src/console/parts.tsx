// Small pieces the console's pages share: loading a page's data, showing a refusal, and the
// server's message next to the field it names.

import Alert from '@cloudscape-design/components/alert';
import { useCallback, useEffect, useState } from 'react';
import { AwsError, messageOf } from './api.js';

export type Async<T> = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'ready'; value: T };

/** Run `load` now and on `reload()`; its result, or why it failed. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): [Async<T>, () => void] {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResult({ state: 'ready', value }),
      (err: unknown) => live && setResult({ state: 'failed', message: messageOf(err) }),
    );
    return () => {
      live = false;
    };
  }, [tick, ...deps]);
  return [result, useCallback(() => setTick((t) => t + 1), [])];
}

export function Failed({ message }: { message: string }) {
  return (
    <Alert type="error" header="The request failed">
      {message}
    </Alert>
  );
}

/**
 * The server's message for one field of a form: shown next to the field it names (by the wire's
 * member name, e.g. 'UserName'), or next to the first field when it names none of them.
 */
export function fieldErrors(err: unknown, fields: readonly string[]): Record<string, string> {
  if (!err) return {};
  const message = messageOf(err);
  const named = fields.find((f) => new RegExp(`\\b${f}\\b`, 'i').test(message)) ?? (err instanceof AwsError ? fields[0] : undefined);
  return named ? { [named]: message } : {};
}
