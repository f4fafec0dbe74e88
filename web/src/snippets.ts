// The text a user pastes into a shell or an AWS config file, for one role's credentials.

import type { Account, Configuration, RoleCredentials } from './api.js';

export type Shell = 'posix' | 'powershell' | 'cmd';

/** The profile name AWS's portal uses in its credentials-file block. */
export const profileName = (accountId: string, roleName: string) => `${accountId}_${roleName}`;

const variables = (c: RoleCredentials): [string, string][] => [
  ['AWS_ACCESS_KEY_ID', c.accessKeyId],
  ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
  ['AWS_SESSION_TOKEN', c.sessionToken],
];

const LINE: Record<Shell, (name: string, value: string) => string> = {
  posix: (name, value) => `export ${name}="${value}"`,
  powershell: (name, value) => `$Env:${name}="${value}"`,
  cmd: (name, value) => `set ${name}=${value}`,
};

export const environmentBlock = (c: RoleCredentials, shell: Shell) => variables(c).map(([name, value]) => LINE[shell](name, value)).join('\n');

export const credentialsFileBlock = (c: RoleCredentials, accountId: string, roleName: string) =>
  [`[${profileName(accountId, roleName)}]`, `aws_access_key_id=${c.accessKeyId}`, `aws_secret_access_key=${c.secretAccessKey}`, `aws_session_token=${c.sessionToken}`].join('\n');

/** The AWS config file's sso-session section: once per machine, whatever the roles (a second one breaks the file). */
export const ssoSessionBlock = (config: Configuration) =>
  ['[sso-session atrium]', `sso_start_url = ${config.startUrl}`, `sso_region = ${config.region}`, 'sso_registration_scopes = sso:account:access'].join('\n');

/** The AWS config file's profile section for one role, signing in through the sso-session section. */
export const ssoProfileBlock = (config: Configuration, account: Account, roleName: string) =>
  [`[profile ${profileName(account.accountId, roleName)}]`, 'sso_session = atrium', `sso_account_id = ${account.accountId}`, `sso_role_name = ${roleName}`, `region = ${config.region}`].join('\n');
