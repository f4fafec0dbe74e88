// "Command line or programmatic access" for one role: fresh credentials as environment variables
// and a credentials-file block, and the values `aws configure sso` asks for.

import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import Modal from '@cloudscape-design/components/modal';
import SegmentedControl from '@cloudscape-design/components/segmented-control';
import SpaceBetween from '@cloudscape-design/components/space-between';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Tabs from '@cloudscape-design/components/tabs';
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError, fetchRoleCredentials, messageOf, type Account, type Configuration, type RoleCredentials } from './api.js';
import { CodeBlock, CopyValue } from './code-block.js';
import { credentialsFileBlock, environmentBlock, profileName, ssoProfileBlock, ssoSessionBlock, type Shell } from './snippets.js';
import { strings } from './strings.js';

const s = strings.access;

export interface CredentialsModalProps {
  account: Account;
  roleName: string;
  configuration: Configuration;
  csrfToken: string;
  onDismiss: () => void;
}

type Issued = { state: 'loading' } | { state: 'failed'; message: string; stepUp?: string } | { state: 'ready'; credentials: RoleCredentials };

export function CredentialsModal({ account, roleName, configuration, csrfToken, onDismiss }: CredentialsModalProps) {
  const [issued, setIssued] = useState<Issued>({ state: 'loading' });
  const [shell, setShell] = useState<Shell>('posix');

  useEffect(() => {
    let current = true;
    fetchRoleCredentials(csrfToken, account.accountId, roleName).then(
      (credentials) => current && setIssued({ state: 'ready', credentials }),
      (err: unknown) => current && setIssued({ state: 'failed', message: messageOf(err), ...(err instanceof ApiError && err.stepUp ? { stepUp: err.stepUp } : {}) }),
    );
    // A closed or replaced modal must not show the answer to an older request.
    return () => {
      current = false;
    };
  }, [csrfToken, account.accountId, roleName]);

  const credentialsTab = (render: (c: RoleCredentials) => ReactNode) => {
    if (issued.state === 'loading') return <StatusIndicator type="loading">{s.fetching}</StatusIndicator>;
    if (issued.state === 'failed') {
      // A session that must prove its second factor first is sent where it does, and back here.
      const action = issued.stepUp ? <Button href={issued.stepUp}>{s.confirmMfa}</Button> : undefined;
      return (
        <Alert type="error" header={s.failed} action={action}>
          {issued.message}
        </Alert>
      );
    }
    return (
      <SpaceBetween size="m">
        {render(issued.credentials)}
        <Box color="text-body-secondary">{s.expires(new Date(issued.credentials.expiration * 1000).toLocaleString())}</Box>
      </SpaceBetween>
    );
  };

  return (
    <Modal visible size="large" onDismiss={onDismiss} header={s.header} closeAriaLabel={s.close}>
      <SpaceBetween size="m">
        <Box variant="p">{s.description(account.accountName, account.accountId, roleName)}</Box>
        <Tabs
          tabs={[
            {
              id: 'environment',
              label: s.tabs.environment,
              content: credentialsTab((c) => (
                <SpaceBetween size="s">
                  <Box variant="p">{s.environment.description}</Box>
                  <SegmentedControl
                    label={s.environment.shellLabel}
                    selectedId={shell}
                    onChange={({ detail }) => setShell(detail.selectedId as Shell)}
                    options={(Object.keys(s.environment.shells) as Shell[]).map((id) => ({ id, text: s.environment.shells[id] }))}
                  />
                  <CodeBlock label={s.tabs.environment} text={environmentBlock(c, shell)} />
                </SpaceBetween>
              )),
            },
            {
              id: 'credentials-file',
              label: s.tabs.credentialsFile,
              content: credentialsTab((c) => (
                <SpaceBetween size="s">
                  <Box variant="p">{s.credentialsFile.description}</Box>
                  <CodeBlock label={s.tabs.credentialsFile} text={credentialsFileBlock(c, account.accountId, roleName)} />
                </SpaceBetween>
              )),
            },
            {
              id: 'configure-sso',
              label: s.tabs.configureSso,
              content: (
                <SpaceBetween size="m">
                  <Box variant="p">{s.configureSso.description}</Box>
                  <KeyValuePairs
                    columns={2}
                    items={[
                      { label: s.configureSso.startUrl, value: <CopyValue value={configuration.startUrl} /> },
                      { label: s.configureSso.region, value: <CopyValue value={configuration.region} /> },
                      { label: s.configureSso.accountId, value: <CopyValue value={account.accountId} /> },
                      { label: s.configureSso.roleName, value: <CopyValue value={roleName} /> },
                    ]}
                  />
                  <Box variant="p">{s.configureSso.configFile(profileName(account.accountId, roleName))}</Box>
                  <Box variant="p">{s.configureSso.sessionSection}</Box>
                  <CodeBlock label={s.configureSso.sessionLabel} text={ssoSessionBlock(configuration)} />
                  <Box variant="p">{s.configureSso.profileSection}</Box>
                  <CodeBlock label={s.configureSso.profileLabel} text={ssoProfileBlock(configuration, account, roleName)} />
                </SpaceBetween>
              ),
            },
          ]}
        />
      </SpaceBetween>
    </Modal>
  );
}
