// Small pieces the console's pages share: loading a page's data, showing a refusal, and the
// server's message next to the field it names.

import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Form from '@cloudscape-design/components/form';
import Link from '@cloudscape-design/components/link';
import Modal from '@cloudscape-design/components/modal';
import SpaceBetween from '@cloudscape-design/components/space-between';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { AwsError, messageOf } from './api.js';
import { followLink, useConsole } from './shell.js';

export type Async<T> = { state: 'loading' } | { state: 'failed'; message: string; error?: unknown } | { state: 'ready'; value: T };

/** Run `load` now and on `reload()`; its result, or why it failed. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): [Async<T>, () => void] {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResult({ state: 'ready', value }),
      (err: unknown) => live && setResult({ state: 'failed', message: messageOf(err), error: err }),
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
 * member name, e.g. 'UserName', or by another name `aliases` gives it, e.g. the attribute path
 * 'name' for GivenName), or next to the first field when it names none of them.
 */
export function fieldErrors(err: unknown, fields: readonly string[], aliases: Record<string, readonly RegExp[]> = {}): Record<string, string> {
  if (!err) return {};
  const message = messageOf(err);
  const names = (f: string) => (aliases[f] ?? []).some((a) => a.test(message)) || new RegExp(`\\b${f}\\b`, 'i').test(message);
  const named = fields.find(names) ?? (err instanceof AwsError ? fields[0] : undefined);
  return named ? { [named]: message } : {};
}

/** A user's attribute paths (identitystore's and the domain's messages name them) by the console's field. */
export const USER_FIELD_PATHS: Record<string, readonly RegExp[]> = {
  GivenName: [/'name(\.givenName)?'/i],
  FamilyName: [/'name\.familyName'/i],
  Email: [/'emails\b/i],
};

/** The simple shape of an email address: something, @, something with a dot. */
export const looksLikeEmail = (value: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);

/** What is missing or malformed before anything is sent: a message for each such field, by its name. */
export function missingFields<K extends string>(values: Record<K, string>, required: Partial<Record<K, string>>, emailField?: K): Partial<Record<K, string>> {
  const problems: Partial<Record<K, string>> = {};
  for (const [field, message] of Object.entries(required) as [K, string][]) if (!values[field].trim()) problems[field] = message;
  if (emailField && values[emailField].trim() && !looksLikeEmail(values[emailField].trim())) problems[emailField] = 'Enter an email address, such as name@example.com.';
  return problems;
}

/**
 * What is wrong with a number field's text for a setting that takes a whole number from `lo` to
 * `hi` (the server's bounds, src/instance/instance-settings.ts), in words; undefined when right.
 */
export function wholeNumberProblem(text: string, lo: number, hi: number, unit: string): string | undefined {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < lo || n > hi) return `Enter a whole number of ${unit} from ${lo.toLocaleString('en-US')} to ${hi.toLocaleString('en-US')}.`;
  return undefined;
}

/** One labelled value of a details container, as the AWS console shows them. */
export function KeyValue({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Box variant="awsui-key-label">{label}</Box>
      <div>{children}</div>
    </div>
  );
}

/** A link to another console page that moves there without reloading. */
export function ConsoleLink({ to, children, fontSize }: { to: string; children: ReactNode; fontSize?: 'display-l' }) {
  const { navigate } = useConsole();
  return (
    <Link href={`/console${to}`} fontSize={fontSize} onFollow={followLink(navigate, to)}>
      {children}
    </Link>
  );
}

/** The Cancel and Save buttons of an edit form (Save submits the form). */
export function EditActions({ onCancel, busy }: { onCancel: () => void; busy?: boolean }) {
  return (
    <SpaceBetween direction="horizontal" size="xs">
      <Button formAction="none" variant="link" onClick={onCancel}>
        Cancel
      </Button>
      <Button variant="primary" loading={busy}>
        Save changes
      </Button>
    </SpaceBetween>
  );
}

/** A row's action in a table ("Remove", "Detach", "Revoke"), or a dash under ReadOnlyAccess. */
export function RowAction({ label, ariaLabel, onClick }: { label: string; ariaLabel: string; onClick: () => void }) {
  const { canWrite } = useConsole();
  return canWrite ? (
    <Button variant="inline-link" ariaLabel={ariaLabel} onClick={onClick}>
      {label}
    </Button>
  ) : (
    '-'
  );
}

/** A modal form: its fields, a Cancel button and the submit button; Enter submits too. */
export function Dialog({ header, busy, submitText, onSubmit, onCancel, children, error }: {
  header: string;
  busy: boolean;
  submitText: string;
  onSubmit: () => void;
  onCancel: () => void;
  children: ReactNode;
  error?: string;
}) {
  return (
    <Modal
      visible
      closeAriaLabel="Close"
      header={header}
      onDismiss={onCancel}
      footer={
        <SpaceBetween direction="horizontal" size="xs">
          <Button variant="link" onClick={onCancel}>
            Cancel
          </Button>
          <Button variant="primary" loading={busy} onClick={onSubmit}>
            {submitText}
          </Button>
        </SpaceBetween>
      }
    >
      <form onSubmit={(e) => (e.preventDefault(), onSubmit())}>
        <Form errorText={error}>
          <SpaceBetween size="m">{children}</SpaceBetween>
        </Form>
      </form>
    </Modal>
  );
}

/** A one-line form above a table (fields, then its button): add a member, attach a policy. */
export function InlineForm({ onSubmit, submitText, children }: { onSubmit: () => void; submitText: string; children: ReactNode }) {
  return (
    <form onSubmit={(e) => (e.preventDefault(), onSubmit())}>
      <SpaceBetween direction="horizontal" size="xs">
        {children}
        <Box padding={{ top: 'l' }}>
          <Button>{submitText}</Button>
        </Box>
      </SpaceBetween>
    </form>
  );
}
