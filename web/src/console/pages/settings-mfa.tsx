// Settings → Authentication, its MFA part: the MFA settings (GET/PUT /api/admin/mfa/settings) and
// sign-in protection (GET/PUT /api/admin/sign-in-protection). Only the fields changed are sent; a
// refusal shows the server's message at the field it names.

import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import RadioGroup from '@cloudscape-design/components/radio-group';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import { useState, type ReactNode } from 'react';
import { admin, messageOf } from '../api.js';
import { MFA_DEVICE_TYPES, MFA_MODES, type MfaSettings } from '../mfa.js';
import { Failed, fieldErrors, useLoad, wholeNumberProblem } from '../parts.js';
import { useConsole } from '../shell.js';

/** One settings form: load, edit a draft of the changed fields, PUT them, show the outcome. */
function useSettingsForm<T extends object>(path: string) {
  const [loaded, reload] = useLoad(() => admin<T>('GET', path));
  const [draft, setDraft] = useState<Partial<T>>({});
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  /** PUT the changed fields; true once saved. */
  const save = async (body: Partial<T>): Promise<boolean> => {
    setError(undefined);
    setSaved(false);
    setBusy(true);
    try {
      await admin('PUT', path, body);
      setDraft({});
      setSaved(true);
      reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { loaded, draft, setDraft, error, saved, busy, save };
}

/** The form around a settings container: its Save button (none under ReadOnlyAccess) and any message no field claimed. */
function SettingsForm({ onSubmit, submitText, saved, busy, error, children }: { onSubmit: () => void; submitText: string; saved: boolean; busy: boolean; error?: string; children: ReactNode }) {
  const { canWrite } = useConsole();
  return (
    <form onSubmit={(e) => (e.preventDefault(), onSubmit())}>
      <Form
        errorText={error}
        actions={
          canWrite && (
            <SpaceBetween direction="horizontal" size="xs" alignItems="center">
              {saved && <StatusIndicator>Saved: every server applies it within 5 seconds</StatusIndicator>}
              <Button variant="primary" loading={busy}>
                {submitText}
              </Button>
            </SpaceBetween>
          )
        }
      >
        {children}
      </Form>
    </form>
  );
}

const MFA_FIELDS = ['Mode', 'AllowedDeviceTypes', 'NoDevice', 'RememberDays', 'WebAuthnAttestation', 'PasskeySignIn'] as const;

export function MfaSettingsForm() {
  const { canWrite } = useConsole();
  const { loaded, draft, setDraft, error, saved, busy, save } = useSettingsForm<MfaSettings>('/mfa/settings');
  const [rememberDays, setRememberDays] = useState<string>();
  if (loaded.state === 'loading') return <Spinner />;
  if (loaded.state === 'failed') return <Failed message={loaded.message} />;
  const v = { ...loaded.value, ...draft };
  const errors = fieldErrors(error, MFA_FIELDS);
  const submit = () => {
    void save({ ...draft, ...(rememberDays === undefined ? {} : { RememberDays: Number(rememberDays) }) }).then((ok) => ok && setRememberDays(undefined));
  };
  const allow = (type: MfaSettings['AllowedDeviceTypes'][number], on: boolean) =>
    setDraft({ ...draft, AllowedDeviceTypes: MFA_DEVICE_TYPES.map((t) => t.value).filter((t) => (t === type ? on : v.AllowedDeviceTypes.includes(t))) });
  /** One of the settings that take one of a few values, as radio buttons. */
  const choice = <K extends 'Mode' | 'NoDevice' | 'WebAuthnAttestation'>(key: K, label: string, items: readonly { value: MfaSettings[K]; label: string; description?: string }[]) => (
    <FormField label={label} errorText={errors[key]}>
      <RadioGroup value={v[key]} ariaLabel={label} readOnly={!canWrite} onChange={({ detail }) => setDraft({ ...draft, [key]: detail.value })} items={items.map((i) => ({ ...i }))} />
    </FormField>
  );
  return (
    <SettingsForm onSubmit={submit} submitText="Save MFA settings" saved={saved} busy={busy} error={error && Object.keys(errors).length === 0 ? messageOf(error) : undefined}>
      <Container header={<Header variant="h2" description="When users sign in with a second factor, and which devices they may use.">Multi-factor authentication</Header>}>
        <SpaceBetween size="l">
          {choice('Mode', 'MFA mode', MFA_MODES)}
          <FormField label="Allowed MFA device types" description="A device of a type no longer allowed stops counting." errorText={errors.AllowedDeviceTypes}>
            <SpaceBetween size="xxs">
              {MFA_DEVICE_TYPES.map((t) => (
                <Checkbox key={t.value} checked={v.AllowedDeviceTypes.includes(t.value)} readOnly={!canWrite} onChange={({ detail }) => allow(t.value, detail.checked)}>
                  {t.label}
                </Checkbox>
              ))}
            </SpaceBetween>
          </FormField>
          {choice('NoDevice', 'A user without an MFA device', [
            { value: 'REGISTER', label: 'Registers a device at sign-in' },
            { value: 'BLOCK', label: 'Is refused sign-in' },
            { value: 'ALLOW', label: 'Signs in with the password alone' },
          ])}
          <FormField label="Remember a browser for (days)" description="Context-aware mode: 1 to 365 days." errorText={errors.RememberDays}>
            <Input type="number" value={rememberDays ?? String(v.RememberDays)} readOnly={!canWrite} onChange={({ detail }) => setRememberDays(detail.value)} ariaLabel="Remember a browser for (days)" />
          </FormField>
          {choice('WebAuthnAttestation', 'WebAuthn attestation', [
            { value: 'NONE', label: 'Not required' },
            { value: 'REQUIRED', label: 'Required', description: 'A security key must give an attestation statement; one that gives none is refused.' },
          ])}
          <FormField errorText={errors.PasskeySignIn}>
            <Checkbox checked={v.PasskeySignIn} readOnly={!canWrite} onChange={({ detail }) => setDraft({ ...draft, PasskeySignIn: detail.checked })} description="The sign-in page offers a passkey: no user name or password.">
              Offer sign-in with a passkey
            </Checkbox>
          </FormField>
        </SpaceBetween>
      </Container>
    </SettingsForm>
  );
}

/** Each setting, its label, and the whole numbers it takes (the server's bounds, src/instance/instance-settings.ts). */
const PROTECTION_FIELDS = [
  ['UserFreeFailures', 'Failures per user name before back-off', 1, 1000, 'failures'],
  ['IpFreeFailures', 'Failures per source address before back-off', 1, 100_000, 'failures'],
  ['BackoffBaseSeconds', 'First back-off (seconds)', 1, 3600, 'seconds'],
  ['BackoffMaxSeconds', 'Longest back-off (seconds)', 1, 86_400, 'seconds'],
  ['UserLockoutFailures', 'Failures that lock a user name out', 1, 10_000, 'failures'],
  ['IpLockoutFailures', 'Failures that lock a source address out', 1, 1_000_000, 'failures'],
  ['LockoutMinutes', 'Lock-out (minutes)', 1, 7 * 24 * 60, 'minutes'],
  ['FailureWindowMinutes', 'Failures count for (minutes)', 1, 7 * 24 * 60, 'minutes'],
] as const;
type ProtectionField = (typeof PROTECTION_FIELDS)[number][0];
type Protection = Record<ProtectionField, number>;

/** What is wrong with the edited fields, by field, before anything is sent. */
function protectionProblems(edits: Partial<Record<ProtectionField, string>>, current: Protection): Partial<Record<ProtectionField, string>> {
  const problems: Partial<Record<ProtectionField, string>> = {};
  for (const [k, , lo, hi, unit] of PROTECTION_FIELDS) {
    const text = edits[k];
    const problem = text === undefined ? undefined : wholeNumberProblem(text, lo, hi, unit);
    if (problem) problems[k] = problem;
  }
  const value = (k: ProtectionField) => (edits[k] === undefined ? current[k] : Number(edits[k]));
  if (!problems.BackoffBaseSeconds && !problems.BackoffMaxSeconds && value('BackoffMaxSeconds') < value('BackoffBaseSeconds')) {
    problems[edits.BackoffMaxSeconds === undefined ? 'BackoffBaseSeconds' : 'BackoffMaxSeconds'] = 'The longest back-off must be at least the first back-off.';
  }
  return problems;
}

export function SignInProtectionForm() {
  const { canWrite } = useConsole();
  const [edits, setEdits] = useState<Partial<Record<ProtectionField, string>>>({});
  const [problems, setProblems] = useState<Partial<Record<ProtectionField, string>>>({});
  const { loaded, error, saved, busy, save } = useSettingsForm<Protection>('/sign-in-protection');
  if (loaded.state === 'loading') return <Spinner />;
  if (loaded.state === 'failed') return <Failed message={loaded.message} />;
  const errors: Partial<Record<ProtectionField, string>> = { ...fieldErrors(error, PROTECTION_FIELDS.map(([k]) => k)), ...problems };
  const submit = () => {
    const found = protectionProblems(edits, loaded.value);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    void save(Object.fromEntries(Object.entries(edits).map(([k, n]) => [k, Number(n)]))).then((ok) => ok && setEdits({}));
  };
  return (
    <SettingsForm onSubmit={submit} submitText="Save sign-in protection" saved={saved} busy={busy} error={error && Object.keys(errors).length === 0 ? messageOf(error) : undefined}>
      <Container header={<Header variant="h2" description="Failed sign-ins (a wrong password or MFA code) slow down, then lock out, a user name or a source address.">Sign-in protection</Header>}>
        <ColumnLayout columns={2}>
          {PROTECTION_FIELDS.map(([k, label]) => (
            <FormField key={k} label={label} errorText={errors[k]}>
              <Input type="number" value={edits[k] ?? String(loaded.value[k])} readOnly={!canWrite} onChange={({ detail }) => setEdits({ ...edits, [k]: detail.value })} ariaLabel={label} />
            </FormField>
          ))}
        </ColumnLayout>
      </Container>
    </SettingsForm>
  );
}
