// Settings: the identity source, authentication (portal session duration, password policy, MFA
// and sign-in protection), SCIM provisioning tokens, and who may use this console.

import Alert from '@cloudscape-design/components/alert';
import AttributeEditor from '@cloudscape-design/components/attribute-editor';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Checkbox from '@cloudscape-design/components/checkbox';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import Form from '@cloudscape-design/components/form';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import Input from '@cloudscape-design/components/input';
import RadioGroup from '@cloudscape-design/components/radio-group';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Table from '@cloudscape-design/components/table';
import Tabs from '@cloudscape-design/components/tabs';
import { useState } from 'react';
import { admin, aws, AwsError, messageOf, when } from '../api.js';
import { Failed, fieldErrors, KeyValue, RowAction, useLoad, wholeNumberProblem } from '../parts.js';
import { useConsole } from '../shell.js';
import { MfaSettingsForm, SignInProtectionForm } from './settings-mfa.js';

interface PasswordPolicy {
  MinLength: number;
  MaxLength: number;
  RequireUppercase: boolean;
  RequireLowercase: boolean;
  RequireDigit: boolean;
  RequireSymbol: boolean;
  HistorySize: number;
  RejectCommon: boolean;
}
interface Settings {
  SessionDurationMinutes: number;
  PasswordPolicy: PasswordPolicy;
  IdentitySource: string;
}

export default function SettingsPage() {
  return (
    <SpaceBetween size="l">
      <Header variant="h1">Settings</Header>
      <Tabs
        i18nStrings={{ scrollLeftAriaLabel: 'Scroll the tabs left', scrollRightAriaLabel: 'Scroll the tabs right' }}
        tabs={[
          { id: 'identity-source', label: 'Identity source', content: <IdentitySource /> },
          {
            id: 'authentication',
            label: 'Authentication',
            content: (
              <SpaceBetween size="l">
                <Authentication />
                <MfaSettingsForm />
                <SignInProtectionForm />
              </SpaceBetween>
            ),
          },
          { id: 'provisioning', label: 'Automatic provisioning', content: <ScimTokens /> },
          { id: 'abac', label: 'Attributes for access control', content: <AccessControlAttributes /> },
          { id: 'administrators', label: 'Console administrators', content: <Administrators /> },
        ]}
      />
    </SpaceBetween>
  );
}

function IdentitySource() {
  const { canWrite } = useConsole();
  const [source, reload] = useLoad(() => Promise.all([admin<{ IdentitySource: string; IdentityProviderEntityId?: string }>('GET', '/identity-source'), admin<{ IdentityProvider: { EntityId: string } | null; SpAcsUrl: string; SpEntityId: string; SpMetadataUrl: string }>('GET', '/saml/idp')]));
  const [choice, setChoice] = useState<string>();
  const [error, setError] = useState<string>();
  if (source.state === 'loading') return <Spinner />;
  if (source.state === 'failed') return <Failed message={source.message} />;
  const [current, saml] = source.value;
  const chosen = choice ?? current.IdentitySource;
  const save = async () => {
    setError(undefined);
    try {
      await admin('PUT', '/identity-source', { IdentitySource: chosen });
      setChoice(undefined);
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <SpaceBetween size="l">
      <Container header={<Header variant="h2">Identity source</Header>}>
        <form onSubmit={(e) => (e.preventDefault(), void save())}>
          <Form actions={canWrite && <Button disabled={chosen === current.IdentitySource}>Change identity source</Button>} errorText={error}>
            <RadioGroup
              value={chosen}
              ariaLabel="Identity source"
              readOnly={!canWrite}
              onChange={({ detail }) => setChoice(detail.value)}
              items={[
                { value: 'INTERNAL', label: 'Identity Center directory', description: 'Users sign in with a password kept by Atrium.' },
                { value: 'EXTERNAL_IDP', label: 'External identity provider', description: 'Users sign in at a SAML 2.0 identity provider. Users, groups and assignments stay either way.' },
              ]}
            />
          </Form>
        </form>
      </Container>
      <Container header={<Header variant="h2">SAML 2.0</Header>}>
        <ColumnLayout columns={2} variant="text-grid">
          <KeyValue label="Identity provider">{saml.IdentityProvider?.EntityId ?? 'None imported (atrium saml idp import)'}</KeyValue>
          <KeyValue label="Service provider entity ID">{saml.SpEntityId}</KeyValue>
          <KeyValue label="Assertion consumer service URL">{saml.SpAcsUrl}</KeyValue>
          <KeyValue label="Service provider metadata">{saml.SpMetadataUrl}</KeyValue>
        </ColumnLayout>
      </Container>
    </SpaceBetween>
  );
}

const POLICY_NUMBERS = [
  ['MinLength', 'Minimum length'],
  ['MaxLength', 'Maximum length'],
  ['HistorySize', 'Previous passwords that may not be reused'],
] as const;
const POLICY_FLAGS = [
  ['RequireUppercase', 'Require an uppercase letter'],
  ['RequireLowercase', 'Require a lowercase letter'],
  ['RequireDigit', 'Require a digit'],
  ['RequireSymbol', 'Require a symbol'],
  ['RejectCommon', 'Refuse common and breached passwords'],
] as const;

/** The portal session's bounds (src/instance/instance-settings.ts): 15 minutes to 90 days. */
const SESSION_MINUTES = { min: 15, max: 90 * 24 * 60 };

function Authentication() {
  const { canWrite } = useConsole();
  const [settings, reload] = useLoad(() => admin<Settings>('GET', '/settings'));
  const [duration, setDuration] = useState<string>();
  const [policy, setPolicy] = useState<Record<string, string | boolean>>({});
  const [error, setError] = useState<unknown>();
  const [durationProblem, setDurationProblem] = useState<string>();
  const [saved, setSaved] = useState(false);
  if (settings.state === 'loading') return <Spinner />;
  if (settings.state === 'failed') return <Failed message={settings.message} />;
  const s = settings.value;
  const errors = fieldErrors(error, ['SessionDurationMinutes', 'sessionDurationMinutes', 'minLength', 'maxLength', 'historySize', 'PasswordPolicy']);
  const durationError = durationProblem ?? errors.SessionDurationMinutes ?? errors.sessionDurationMinutes;
  const policyError = errors.minLength ?? errors.maxLength ?? errors.historySize ?? errors.PasswordPolicy;
  const save = async () => {
    setError(undefined);
    setSaved(false);
    const problem = duration === undefined ? undefined : wholeNumberProblem(duration, SESSION_MINUTES.min, SESSION_MINUTES.max, 'minutes');
    setDurationProblem(problem);
    if (problem) return;
    const numbers = Object.fromEntries(POLICY_NUMBERS.filter(([k]) => typeof policy[k] === 'string').map(([k]) => [k, Number(policy[k])]));
    const flags = Object.fromEntries(POLICY_FLAGS.filter(([k]) => typeof policy[k] === 'boolean').map(([k]) => [k, policy[k]]));
    try {
      await admin('PUT', '/settings', {
        ...(duration === undefined ? {} : { SessionDurationMinutes: Number(duration) }),
        ...(Object.keys(numbers).length + Object.keys(flags).length ? { PasswordPolicy: { ...numbers, ...flags } } : {}),
      });
      setDuration(undefined);
      setPolicy({});
      setSaved(true);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void save())}>
      <Form
        actions={
          canWrite && (
            <SpaceBetween direction="horizontal" size="xs" alignItems="center">
              {saved && <StatusIndicator>Saved: every server applies it within 5 seconds</StatusIndicator>}
              <Button variant="primary">Save authentication settings</Button>
            </SpaceBetween>
          )
        }
        errorText={error && !durationError && !policyError ? messageOf(error) : undefined}
      >
        <SpaceBetween size="l">
          <Container header={<Header variant="h2">Portal session</Header>}>
            <FormField label="Session duration (minutes)" description={`How long a sign-in to the access portal lasts: ${SESSION_MINUTES.min} minutes to 90 days (${SESSION_MINUTES.max.toLocaleString('en-US')} minutes).`} errorText={durationError}>
              <Input type="number" value={duration ?? String(s.SessionDurationMinutes)} readOnly={!canWrite} onChange={({ detail }) => setDuration(detail.value)} ariaLabel="Session duration (minutes)" />
            </FormField>
          </Container>
          <Container header={<Header variant="h2">Password policy</Header>}>
            <SpaceBetween size="m">
              {policyError && <Alert type="error">{policyError}</Alert>}
              <ColumnLayout columns={3}>
                {POLICY_NUMBERS.map(([k, label]) => (
                  <FormField key={k} label={label}>
                    <Input type="number" value={typeof policy[k] === 'string' ? (policy[k]) : String(s.PasswordPolicy[k])} readOnly={!canWrite} onChange={({ detail }) => setPolicy({ ...policy, [k]: detail.value })} ariaLabel={label} />
                  </FormField>
                ))}
              </ColumnLayout>
              {POLICY_FLAGS.map(([k, label]) => (
                <Checkbox key={k} checked={typeof policy[k] === 'boolean' ? (policy[k]) : s.PasswordPolicy[k]} readOnly={!canWrite} onChange={({ detail }) => setPolicy({ ...policy, [k]: detail.checked })}>
                  {label}
                </Checkbox>
              ))}
            </SpaceBetween>
          </Container>
        </SpaceBetween>
      </Form>
    </form>
  );
}

interface Token {
  TokenId: string;
  CreatedAt: number;
  ExpiresAt: number;
  LastUsedAt?: number;
  Active: boolean;
}

function ScimTokens() {
  const { canWrite } = useConsole();
  const [tokens, reload] = useLoad(async () => (await admin<{ Tokens: Token[] }>('GET', '/scim/tokens')).Tokens);
  const [issued, setIssued] = useState<{ Token: string; Endpoint: string }>();
  const [error, setError] = useState<string>();
  const act = async (action: () => Promise<void>) => {
    setError(undefined);
    try {
      await action();
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <SpaceBetween size="l">
      {error && <Alert type="error">{error}</Alert>}
      {issued && (
        <Alert type="success" header="Access token created" dismissible i18nStrings={{ dismissAriaLabel: "Dismiss" }} onDismiss={() => setIssued(undefined)}>
          <SpaceBetween size="xs">
            <Box>Copy it into your identity provider now: it is shown only once.</Box>
            <CopyToClipboard variant="inline" textToCopy={issued.Token} copyButtonAriaLabel="Copy the access token" copySuccessText="Token copied" copyErrorText="Could not copy" />
            <Box>SCIM endpoint: {issued.Endpoint}</Box>
          </SpaceBetween>
        </Alert>
      )}
      <Table
        header={
          <Header variant="h2" description="Your identity provider provisions users and groups over SCIM 2.0 with one of these (at most 2 active)." actions={canWrite && <Button onClick={() => void act(async () => setIssued(await admin('POST', '/scim/tokens', {})))}>Generate token</Button>}>
            Access tokens
          </Header>
        }
        loading={tokens.state === 'loading'}
        loadingText="Loading tokens"
        items={tokens.state === 'ready' ? tokens.value : []}
        columnDefinitions={[
          { id: 'id', header: 'Token ID', cell: (t) => t.TokenId },
          { id: 'created', header: 'Created', cell: (t) => when(t.CreatedAt) },
          { id: 'expires', header: 'Expires', cell: (t) => when(t.ExpiresAt) },
          { id: 'used', header: 'Last used', cell: (t) => when(t.LastUsedAt) },
          { id: 'status', header: 'Status', cell: (t) => (t.Active ? <StatusIndicator>Active</StatusIndicator> : <StatusIndicator type="stopped">Expired</StatusIndicator>) },
          {
            id: 'delete',
            header: 'Actions',
            cell: (t) => <RowAction label="Delete" ariaLabel={`Delete the token ${t.TokenId}`} onClick={() => void act(async () => void (await admin('DELETE', `/scim/tokens/${encodeURIComponent(t.TokenId)}`)))} />,
          },
        ]}
        empty={tokens.state === 'failed' ? tokens.message : 'No access tokens.'}
      />
    </SpaceBetween>
  );
}

function Administrators() {
  const [grants] = useLoad(async () => (await admin<{ Grants: { UserId: string; UserName: string; Policy: string; GrantedAt: number; GrantedBy: string }[] }>('GET', '/console/grants')).Grants);
  return (
    <Table
      header={<Header variant="h2" description="Granted and revoked from the command line: atrium admin grant --user-name NAME --policy AdministratorAccess|ReadOnlyAccess.">Console administrators</Header>}
      loading={grants.state === 'loading'}
      loadingText="Loading administrators"
      items={grants.state === 'ready' ? grants.value : []}
      columnDefinitions={[
        { id: 'user', header: 'Username', cell: (g) => g.UserName },
        { id: 'policy', header: 'Policy', cell: (g) => g.Policy },
        { id: 'granted', header: 'Granted', cell: (g) => `${when(g.GrantedAt)} by ${g.GrantedBy}` },
      ]}
      empty={grants.state === 'failed' ? grants.message : 'No administrators.'}
    />
  );
}

interface Attribute {
  Key: string;
  Value: { Source: string[] };
}

/** Attribute-based access control: session tags taken from user attributes (sso-admin's configuration). */
function AccessControlAttributes() {
  const { instance, canWrite } = useConsole();
  const [config, reload] = useLoad(async () => {
    try {
      const r = await aws<{ InstanceAccessControlAttributeConfiguration: { AccessControlAttributes: Attribute[] } }>('ssoAdmin', 'DescribeInstanceAccessControlAttributeConfiguration', {
        InstanceArn: instance.InstanceArn,
      });
      return r.InstanceAccessControlAttributeConfiguration.AccessControlAttributes;
    } catch (err) {
      if (err instanceof AwsError && err.status === 404) return undefined;
      throw err;
    }
  });
  const [rows, setRows] = useState<{ key: string; source: string }[]>();
  const [error, setError] = useState<string>();
  if (config.state === 'loading') return <Spinner />;
  if (config.state === 'failed') return <Failed message={config.message} />;
  const enabled = config.value !== undefined;
  const items = rows ?? (config.value ?? []).map((a) => ({ key: a.Key, source: a.Value.Source[0] ?? '' }));
  const save = async (disable: boolean) => {
    setError(undefined);
    try {
      if (disable) await aws('ssoAdmin', 'DeleteInstanceAccessControlAttributeConfiguration', { InstanceArn: instance.InstanceArn });
      else
        await aws('ssoAdmin', enabled ? 'UpdateInstanceAccessControlAttributeConfiguration' : 'CreateInstanceAccessControlAttributeConfiguration', {
          InstanceArn: instance.InstanceArn,
          InstanceAccessControlAttributeConfiguration: { AccessControlAttributes: items.map((r) => ({ Key: r.key, Value: { Source: [r.source] } })) },
        });
      setRows(undefined);
      reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <Container
      header={
        <Header variant="h2" description="Each attribute becomes a session tag on the roles users take, from the source you name, e.g. ${path:enterprise.department}.">
          Attributes for access control {enabled ? <StatusIndicator>Enabled</StatusIndicator> : <StatusIndicator type="stopped">Disabled</StatusIndicator>}
        </Header>
      }
    >
      <form onSubmit={(e) => (e.preventDefault(), void save(false))}>
        <Form
          errorText={error}
          actions={
            canWrite && (
              <SpaceBetween direction="horizontal" size="xs">
                {enabled && (
                  <Button formAction="none" onClick={() => void save(true)}>
                    Disable
                  </Button>
                )}
                <Button variant="primary">{enabled ? 'Save attributes' : 'Enable with these attributes'}</Button>
              </SpaceBetween>
            )
          }
        >
          <AttributeEditor
            items={items}
            addButtonText="Add attribute"
            removeButtonText="Remove"
            disableAddButton={!canWrite}
            onAddButtonClick={() => setRows([...items, { key: '', source: '' }])}
            onRemoveButtonClick={({ detail }) => setRows(items.filter((_, i) => i !== detail.itemIndex))}
            empty="No attributes."
            definition={[
              {
                label: 'Key',
                control: (item, i) => <Input value={item.key} readOnly={!canWrite} ariaLabel={`Key of attribute ${i + 1}`} onChange={({ detail }) => setRows(items.map((r, j) => (j === i ? { ...r, key: detail.value } : r)))} />,
              },
              {
                label: 'Value (source)',
                control: (item, i) => (
                  <Input value={item.source} readOnly={!canWrite} ariaLabel={`Source of attribute ${i + 1}`} onChange={({ detail }) => setRows(items.map((r, j) => (j === i ? { ...r, source: detail.value } : r)))} />
                ),
              },
            ]}
          />
        </Form>
      </form>
    </Container>
  );
}
