// The access portal: who is signed in, their accounts and roles, and sign-out.

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Spinner from '@cloudscape-design/components/spinner';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { AccountList } from './account-list.js';
import { fetchAccounts, fetchConfiguration, fetchSession, type Account, type Configuration, type Session } from './api.js';
import { CredentialsModal } from './credentials-modal.js';
import { strings } from './strings.js';

/** The sign-out route of the server's sign-in pages: a form POST carrying the session's CSRF token. */
const SIGN_OUT = '/logout';

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'ready'; session: Session; configuration: Configuration; accounts: Account[] };

export function App() {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [open, setOpen] = useState<{ account: Account; roleName: string }>();
  const signOutForm = useRef<HTMLFormElement>(null);

  const load = useCallback(() => {
    setLoaded({ state: 'loading' });
    Promise.all([fetchSession(), fetchConfiguration(), fetchAccounts()]).then(
      ([session, configuration, accounts]) => {
        accounts.sort((a, b) => a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId));
        setLoaded({ state: 'ready', session, configuration, accounts });
      },
      (err: unknown) => setLoaded({ state: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
  }, []);
  useEffect(load, [load]);

  const session = loaded.state === 'ready' ? loaded.session : undefined;
  return (
    <>
      <TopNavigation
        identity={{ href: '/start', title: strings.title }}
        utilities={
          session
            ? [
                {
                  type: 'menu-dropdown',
                  text: session.userName,
                  description: strings.signedInAs(session.userName),
                  iconName: 'user-profile',
                  items: [{ id: 'sign-out', text: strings.signOut }],
                  onItemClick: () => signOutForm.current?.submit(),
                },
              ]
            : []
        }
      />
      <main className="portal-content">
        <ContentLayout>
          {loaded.state === 'loading' && <Spinner size="large" />}
          {loaded.state === 'failed' && (
            <Alert type="error" header={strings.loadFailed} action={<Button onClick={load}>{strings.retry}</Button>}>
              {loaded.message}
            </Alert>
          )}
          {loaded.state === 'ready' && <AccountList accounts={loaded.accounts} onOpenRole={(account, roleName) => setOpen({ account, roleName })} />}
        </ContentLayout>
      </main>
      {session && open && loaded.state === 'ready' && (
        <CredentialsModal key={`${open.account.accountId}/${open.roleName}`} {...open} configuration={loaded.configuration} csrfToken={session.csrfToken} onDismiss={() => setOpen(undefined)} />
      )}
      {session && (
        <form ref={signOutForm} method="post" action={SIGN_OUT} hidden>
          <input type="hidden" name="csrf" value={session.csrfToken} />
        </form>
      )}
    </>
  );
}
