// Every string the access portal shows, in one place.

export const strings = {
  title: 'Atrium access portal',
  signOut: 'Sign out',
  signedInAs: (userName: string) => `Signed in as ${userName}`,
  loading: 'Loading',
  loadFailed: 'The portal could not load.',
  retry: 'Retry',

  views: {
    accounts: 'Accounts',
    sessions: 'Sessions',
  },

  accounts: {
    header: 'AWS accounts',
    description: 'The accounts you have access to, and the roles you can use in each.',
    filterPlaceholder: 'Find accounts by name, ID, email or role',
    filterLabel: 'Search accounts',
    clearFilter: 'Clear search',
    matches: (n: number) => `${n} ${n === 1 ? 'match' : 'matches'}`,
    none: 'You have no accounts',
    noneDescription: 'An administrator has not assigned you to any account yet.',
    noMatches: 'No matches',
    noMatchesDescription: 'No account matches the search.',
    accountDescription: (accountId: string, email: string) => `${accountId} | ${email}`,
    roleCount: (n: number) => `${n} ${n === 1 ? 'role' : 'roles'}`,
    pagination: { nextPageLabel: 'Next page', previousPageLabel: 'Previous page', pageLabel: (n: number) => `Page ${n}` },
  },

  sessions: {
    header: 'Sessions',
    description: 'Where you are signed in to this portal. End any session you do not recognise; ending this session signs you out.',
    refresh: 'Refresh',
    failed: 'The sessions could not be listed.',
    endFailed: 'The session could not be ended.',
    dismiss: 'Dismiss',
    fields: { sourceIp: 'IP address', createdAt: 'Signed in', expiresAt: 'Expires' },
    client: (browser: string | undefined, system: string | undefined, userAgent: string) =>
      browser && system ? `${browser} on ${system}` : (browser ?? system ?? (userAgent || 'Unknown browser')),
    current: 'This session',
    end: 'End session',
    // Each label starts with the button's visible text, as speech input expects.
    endCurrentLabel: 'End session: this one, which signs you out',
    endLabel: (client: string, sourceIp: string, createdAt: string) => `End session: ${client} at ${sourceIp}, signed in ${createdAt}`,
  },

  access: {
    open: 'Command line or programmatic access',
    openLabel: (roleName: string, accountName: string) => `Command line or programmatic access for ${roleName} in ${accountName}`,
    header: 'Command line or programmatic access',
    close: 'Close',
    description: (accountName: string, accountId: string, roleName: string) => `${roleName} in ${accountName} (${accountId})`,
    fetching: 'Getting credentials',
    failed: 'The credentials could not be issued.',
    confirmMfa: 'Confirm with MFA',
    expires: (when: string) => `These credentials expire at ${when}. Get new ones here, or let the AWS CLI refresh them with aws configure sso.`,
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'The browser did not allow copying',
    tabs: {
      environment: 'Environment variables',
      credentialsFile: 'Credentials file',
      configureSso: 'aws configure sso',
    },
    environment: {
      description: 'Set these in a shell to run AWS commands with this role.',
      shells: { posix: 'macOS and Linux', powershell: 'Windows PowerShell', cmd: 'Windows Command Prompt' },
      shellLabel: 'Shell',
    },
    credentialsFile: {
      description: 'Add this profile to your AWS credentials file (~/.aws/credentials), then use it with --profile.',
    },
    configureSso: {
      description: 'Run aws configure sso and enter these values; the AWS CLI then signs you in and refreshes the credentials by itself.',
      startUrl: 'SSO start URL',
      region: 'SSO region',
      accountId: 'Account ID',
      roleName: 'Role name',
      configFile: (profile: string) => `Or add these sections to your AWS config file (~/.aws/config), then run aws sso login --profile ${profile}.`,
      sessionSection: 'Once per machine, whatever the roles: the AWS CLI refuses a config file that has this section twice.',
      sessionLabel: 'sso-session section',
      profileSection: 'For this role:',
      profileLabel: 'Profile section',
    },
  },
} as const;
