// The access portal: who is signed in, their accounts and roles, their sessions, their MFA devices, and sign-out.

import Alert from '@cloudscape-design/components/alert';
import Button from '@cloudscape-design/components/button';
import ContentLayout from '@cloudscape-design/components/content-layout';
import Spinner from '@cloudscape-design/components/spinner';
import Tabs from '@cloudscape-design/components/tabs';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { AccountList } from './account-list.js';
import { fetchAccounts, fetchConfiguration, fetchSession, messageOf, type Account, type Configuration, type Session } from './api.js';
import { CredentialsModal } from './credentials-modal.js';
import { MfaDeviceList } from './mfa/device-list.js';
import { SessionList } from './session-list.js';
import { strings } from './strings.js';

/** The sign-out route of the server's sign-in pages: a form POST carrying the session's CSRF token. */
const SIGN_OUT = '/logout';

/** Each view has its own path under /start (the server answers the app there), so a link or a reload keeps it. */
const VIEWS = { accounts: '/start', sessions: '/start/sessions', mfa: '/start/mfa' } as const;
type View = keyof typeof VIEWS;
const viewAt = (pathname: string): View => {
  const path = pathname.replace(/\/+$/, '');
  return path === VIEWS.sessions ? 'sessions' : path === VIEWS.mfa ? 'mfa' : 'accounts';
};

/** The view of the address bar, following the browser's back and forward buttons. */
function useView(): [View, (view: View) => void] {
  const [view, setView] = useState(() => viewAt(window.location.pathname));
  useEffect(() => {
    const follow = () => setView(viewAt(window.location.pathname));
    window.addEventListener('popstate', follow);
    return () => window.removeEventListener('popstate', follow);
  }, []);
  const show = useCallback((next: View) => {
    if (viewAt(window.location.pathname) !== next) window.history.pushState(null, '', VIEWS[next]);
    setView(next);
  }, []);
  return [view, show];
}

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'ready'; session: Session; configuration: Configuration; accounts: Account[] };

export function App() {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [open, setOpen] = useState<{ account: Account; roleName: string }>();
  const signOutForm = useRef<HTMLFormElement>(null);
  const [view, showView] = useView();

  const load = useCallback(() => {
    setLoaded({ state: 'loading' });
    Promise.all([fetchSession(), fetchConfiguration(), fetchAccounts()]).then(
      ([session, configuration, accounts]) => {
        accounts.sort((a, b) => a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId));
        setLoaded({ state: 'ready', session, configuration, accounts });
      },
      (err: unknown) => setLoaded({ state: 'failed', message: messageOf(err) }),
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
          {loaded.state === 'ready' && (
            <Tabs
              activeTabId={view}
              onChange={({ detail }) => showView(detail.activeTabId as View)}
              tabs={[
                {
                  id: 'accounts',
                  label: strings.views.accounts,
                  href: VIEWS.accounts,
                  // Kept mounted once seen, so the search survives a visit to another view.
                  contentRenderStrategy: 'lazy',
                  content: <AccountList accounts={loaded.accounts} onOpenRole={(account, roleName) => setOpen({ account, roleName })} />,
                },
                // Mounted on each visit, so the list is fresh.
                { id: 'sessions', label: strings.views.sessions, href: VIEWS.sessions, content: <SessionList csrfToken={loaded.session.csrfToken} /> },
                { id: 'mfa', label: 'MFA devices', href: VIEWS.mfa, content: <MfaDeviceList csrfToken={loaded.session.csrfToken} /> },
              ]}
            />
          )}
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
