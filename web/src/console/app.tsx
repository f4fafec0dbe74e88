// The console's frame: top navigation, the side navigation of the AWS console's IAM Identity
// Center, and the page of the current path. Each page is its own chunk, loaded when first shown.

import Alert from '@cloudscape-design/components/alert';
import AppLayout from '@cloudscape-design/components/app-layout';
import SideNavigation from '@cloudscape-design/components/side-navigation';
import Spinner from '@cloudscape-design/components/spinner';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import { admin, messageOf, portal, setCsrfToken, type Instance } from './api.js';
import { NotFound } from './not-found.js';
import { ConsoleContext, usePath, type ConsoleState } from './shell.js';

/** Each page is its own chunk: the first load carries only the frame and the page it opens on. */
const PAGES = {
  dashboard: () => import('./pages/dashboard.js'),
  users: () => import('./pages/users.js'),
  userDetail: () => import('./pages/user-detail.js'),
  groups: () => import('./pages/groups.js'),
  groupDetail: () => import('./pages/group-detail.js'),
  accounts: () => import('./pages/accounts.js'),
  assign: () => import('./pages/assign.js'),
  permissionSets: () => import('./pages/permission-sets.js'),
  permissionSetCreate: () => import('./pages/permission-set-create.js'),
  permissionSetDetail: () => import('./pages/permission-set-detail.js'),
  settings: () => import('./pages/settings.js'),
  audit: () => import('./pages/audit.js'),
};
const Dashboard = lazy(PAGES.dashboard);
const Users = lazy(PAGES.users);
const UserDetail = lazy(PAGES.userDetail);
const Groups = lazy(PAGES.groups);
const GroupDetail = lazy(PAGES.groupDetail);
const Accounts = lazy(PAGES.accounts);
const AssignWizard = lazy(PAGES.assign);
const PermissionSets = lazy(PAGES.permissionSets);
const PermissionSetCreate = lazy(PAGES.permissionSetCreate);
const PermissionSetDetail = lazy(PAGES.permissionSetDetail);
const Settings = lazy(PAGES.settings);
const Audit = lazy(PAGES.audit);

/** Once the first page is up, fetch the others while the browser is idle: a click then shows its page at once. */
function prefetchPages() {
  const fetchAll = () => void Promise.all(Object.values(PAGES).map((load) => load().catch(() => undefined)));
  if ('requestIdleCallback' in window) window.requestIdleCallback(fetchAll);
  else setTimeout(fetchAll, 200);
}

/** A path no page answers: said so, with the way back (not another page in its place). */
function NoSuchPage({ id }: { id: string }) {
  return <NotFound message={`There is no console page at /console${id}.`} back={{ to: '/', text: 'Go to the dashboard' }} />;
}

/** The page of a path under /console, and the id it names (ids only, never names: see docs/ARCHITECTURE.md). */
function route(path: string): { page: ComponentType<{ id: string }>; id: string; nav: string } {
  const [pathname = '/'] = path.split('?');
  const missing = { page: NoSuchPage, id: pathname, nav: '' };
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return missing; // a malformed %-escape
  }
  const [section, id = '', ...rest] = parts;
  switch (section) {
    case undefined:
      return { page: Dashboard, id: '', nav: '/' };
    case 'users':
      return rest.length ? missing : { page: id ? UserDetail : Users, id, nav: '/users' };
    case 'groups':
      return rest.length ? missing : { page: id ? GroupDetail : Groups, id, nav: '/groups' };
    case 'accounts':
      return rest.length || (id && id !== 'assign') ? missing : { page: id ? AssignWizard : Accounts, id, nav: '/accounts' };
    case 'permission-sets':
      // A set's id is the last two parts of its ARN: ssoins-…/ps-….
      if (id === 'create') return rest.length ? missing : { page: PermissionSetCreate, id, nav: '/permission-sets' };
      return rest.length > 1 || (id && rest.length === 0) ? missing : { page: id ? PermissionSetDetail : PermissionSets, id: parts.slice(1).join('/'), nav: '/permission-sets' };
    case 'settings':
      return id ? missing : { page: Settings, id, nav: '/settings' };
    case 'audit':
      return id ? missing : { page: Audit, id, nav: '/audit' };
    default:
      return missing;
  }
}

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'ready'; instance: Instance; userName: string; policy: string };

export function ConsoleApp() {
  const [path, navigate] = usePath();
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const signOut = useRef<HTMLFormElement>(null);
  const [csrf, setCsrf] = useState('');
  const [navigationOpen, setNavigationOpen] = useState(true);
  // The overview the frame loads, kept for the page the console opened on (the dashboard shows its counts).
  const [openedAt] = useState(path);
  const overview = useRef<Instance>(undefined);
  // Once the console has moved on from where it opened, the counts there may be stale: never used.
  useEffect(() => {
    if (path !== openedAt) overview.current = undefined;
  }, [path, openedAt]);

  useEffect(() => {
    (async () => {
      const session = await portal<{ userId: string; userName: string; csrfToken: string }>('/session');
      setCsrfToken(session.csrfToken);
      setCsrf(session.csrfToken);
      const [instance, grants] = await Promise.all([admin<Instance>('GET', '/overview'), admin<{ Grants: { UserId: string; Policy: string }[] }>('GET', '/console/grants')]);
      // The grant is the user id's: a user name can change (UpdateUser, SCIM) and be given to another.
      // (Only what the page offers: the server checks the grant on every request.)
      const policy = grants.Grants.find((g) => g.UserId === session.userId)?.Policy ?? 'ReadOnlyAccess';
      overview.current = instance;
      setLoaded({ state: 'ready', instance, userName: session.userName, policy });
      prefetchPages();
    })().catch((err: unknown) => setLoaded({ state: 'failed', message: messageOf(err) }));
  }, []);

  const state = useMemo<ConsoleState | undefined>(
    () =>
      loaded.state === 'ready'
        ? {
            instance: loaded.instance,
            userName: loaded.userName,
            policy: loaded.policy,
            canWrite: loaded.policy === 'AdministratorAccess',
            navigate,
            takeOverview: (at: string) => {
              const first = overview.current;
              overview.current = undefined;
              return at === openedAt ? first : undefined;
            },
          }
        : undefined,
    [loaded, navigate, openedAt],
  );
  const { page: Page, id, nav } = route(path);

  return (
    <>
      <div id="top-nav">
        <TopNavigation
          identity={{ href: '/console', title: 'Atrium console', onFollow: (e) => (e.preventDefault(), navigate('/')) }}
          utilities={
            state
              ? [
                  { type: 'button', text: 'Access portal', href: '/start' },
                  {
                    type: 'menu-dropdown',
                    text: state.userName,
                    description: `${state.userName} (${state.policy})`,
                    iconName: 'user-profile',
                    items: [{ id: 'sign-out', text: 'Sign out' }],
                    onItemClick: () => signOut.current?.submit(),
                  },
                ]
              : []
          }
        />
      </div>
      <AppLayout
        headerSelector="#top-nav"
        toolsHide
        navigationOpen={navigationOpen}
        onNavigationChange={({ detail }) => setNavigationOpen(detail.open)}
        ariaLabels={{ navigation: 'Side navigation', navigationClose: 'Close side navigation', navigationToggle: 'Open side navigation', notifications: 'Notifications' }}
        navigation={
          <SideNavigation
            header={{ href: '/console', text: 'IAM Identity Center' }}
            activeHref={nav}
            onFollow={(e) => {
              e.preventDefault();
              navigate(e.detail.href === '/console' ? '/' : e.detail.href);
            }}
            items={[
              { type: 'link', text: 'Dashboard', href: '/' },
              { type: 'section', text: 'Users and groups', items: [{ type: 'link', text: 'Users', href: '/users' }, { type: 'link', text: 'Groups', href: '/groups' }] },
              {
                type: 'section',
                text: 'Multi-account permissions',
                items: [
                  { type: 'link', text: 'AWS accounts', href: '/accounts' },
                  { type: 'link', text: 'Permission sets', href: '/permission-sets' },
                ],
              },
              { type: 'link', text: 'Settings', href: '/settings' },
              { type: 'link', text: 'Audit: event history', href: '/audit' },
            ]}
          />
        }
        content={
          loaded.state === 'loading' ? (
            <Spinner size="large" />
          ) : loaded.state === 'failed' ? (
            <Alert type="error" header="The console could not load">
              {loaded.message}
            </Alert>
          ) : (
            <ConsoleContext.Provider value={state}>
              <Suspense fallback={<Spinner size="large" />}>
                <Page key={path} id={id} />
              </Suspense>
            </ConsoleContext.Provider>
          )
        }
      />
      <form ref={signOut} method="post" action="/logout" hidden>
        <input type="hidden" name="csrf" value={csrf} />
      </form>
    </>
  );
}
