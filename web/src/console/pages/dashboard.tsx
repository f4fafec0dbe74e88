// Dashboard: the instance, its region and start URL, the identity source, the MFA mode, and how
// many users, groups, accounts and permission sets it holds.

import ColumnLayout from '@cloudscape-design/components/column-layout';
import Container from '@cloudscape-design/components/container';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import { admin, type Instance } from '../api.js';
import { mfaModeLabel, type MfaSettings } from '../mfa.js';
import { ConsoleLink, Failed, KeyValue, useLoad } from '../parts.js';
import { useConsole } from '../shell.js';

const GLANCE = [
  ['Users', '/users', 'users'],
  ['Groups', '/groups', 'groups'],
  ['AWS accounts', '/accounts', 'accounts'],
  ['Permission sets', '/permission-sets', 'permissionSets'],
] as const;
type Key = (typeof GLANCE)[number][2];

export default function Dashboard() {
  const { instance, takeOverview } = useConsole();
  // Counted by the server, in the database: the dashboard costs one request however many there are,
  // and none when the console opens on it (the frame has just loaded the same overview).
  const [counts] = useLoad(async () => {
    const overview = takeOverview('/') ?? (await admin<Instance>('GET', '/overview'));
    const n = (x: number) => x.toLocaleString('en-US');
    return { users: n(overview.UserCount), groups: n(overview.GroupCount), accounts: n(overview.AccountCount), permissionSets: n(overview.PermissionSetCount) };
  });
  const [mfa] = useLoad(() => admin<MfaSettings>('GET', '/mfa/settings'));
  const count = (key: Key) => (counts.state === 'ready' ? counts.value[key] : counts.state === 'failed' ? '-' : <Spinner />);
  return (
    <ContentLayout header={<Header variant="h1">Dashboard</Header>}>
      <SpaceBetween size="l">
        <Container header={<Header variant="h2">Settings summary</Header>}>
          <ColumnLayout columns={2} variant="text-grid">
            <KeyValue label="Instance ARN">{instance.InstanceArn}</KeyValue>
            <KeyValue label="Region">{instance.Region}</KeyValue>
            <KeyValue label="AWS access portal URL">
              <Link href={instance.StartUrl} external>
                {instance.StartUrl}
              </Link>
            </KeyValue>
            <KeyValue label="Identity source">
              <ConsoleLink to="/settings">
                {instance.IdentitySource === 'INTERNAL' ? 'Identity Center directory' : 'External identity provider'}
              </ConsoleLink>
            </KeyValue>
            <KeyValue label="Multi-factor authentication">
              {mfa.state === 'ready' ? <ConsoleLink to="/settings">{mfaModeLabel(mfa.value.Mode)}</ConsoleLink> : mfa.state === 'loading' ? <Spinner /> : mfa.message}
            </KeyValue>
            <KeyValue label="Identity store ID">{instance.IdentityStoreId}</KeyValue>
          </ColumnLayout>
        </Container>
        {counts.state === 'failed' && <Failed message={counts.message} />}
        <Container header={<Header variant="h2">At a glance</Header>}>
          <ColumnLayout columns={4} variant="text-grid">
            {GLANCE.map(([label, to, key]) => (
              <KeyValue key={key} label={label}>
                <ConsoleLink to={to} fontSize="display-l">
                  {count(key)}
                </ConsoleLink>
              </KeyValue>
            ))}
          </ColumnLayout>
        </Container>
      </SpaceBetween>
    </ContentLayout>
  );
}
