// What the permission set pages share: the predefined sets (AWS managed job-function policies) and
// the session durations a permission set may have.

export const PREDEFINED = [
  { name: 'AdministratorAccess', arn: 'arn:aws:iam::aws:policy/AdministratorAccess', description: 'Full access to AWS services and resources.' },
  { name: 'PowerUserAccess', arn: 'arn:aws:iam::aws:policy/PowerUserAccess', description: 'Full access to AWS services and resources, but not to users and groups.' },
  { name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', description: 'Read-only access to AWS services and resources.' },
  { name: 'ViewOnlyAccess', arn: 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess', description: 'View resources and basic metadata across AWS services.' },
  { name: 'SecurityAudit', arn: 'arn:aws:iam::aws:policy/SecurityAudit', description: 'Read security configuration metadata, for auditors.' },
  { name: 'Billing', arn: 'arn:aws:iam::aws:policy/job-function/Billing', description: 'View and manage billing and cost.' },
  { name: 'SupportUser', arn: 'arn:aws:iam::aws:policy/job-function/SupportUser', description: 'Troubleshoot and resolve issues with AWS Support.' },
  { name: 'DatabaseAdministrator', arn: 'arn:aws:iam::aws:policy/job-function/DatabaseAdministrator', description: 'Set up, configure and maintain AWS database services.' },
] as const;

export const DURATIONS = ['PT1H', 'PT2H', 'PT4H', 'PT8H', 'PT12H'].map((d) => ({ value: d, label: `${d.slice(2, -1)} hour${d === 'PT1H' ? '' : 's'}` }));
