// AWS Organizations' fixed rules that need no storage: ARN shapes, parent types, tag limits.
// Kept pure so that they are tested without a database.

import { DomainError, failedPrecondition } from '../shared/errors.js';
import type { Tag } from '../shared/tags.js';

/** AWS allows five levels of OUs under the root. */
export const MAX_OU_DEPTH = 5;
export const MAX_TAGS_PER_RESOURCE = 50;

export type ParentType = 'ROOT' | 'ORGANIZATIONAL_UNIT';

export const parentTypeOf = (parentId: string): ParentType => (parentId.startsWith('r-') ? 'ROOT' : 'ORGANIZATIONAL_UNIT');

/** Every ARN in an organization names the management account and the organization id. */
export function arnsOf(org: { organizationId: string; managementAccountId: string }) {
  const base = `arn:aws:organizations::${org.managementAccountId}`;
  return {
    organization: `${base}:organization/${org.organizationId}`,
    root: (rootId: string) => `${base}:root/${org.organizationId}/${rootId}`,
    organizationalUnit: (ouId: string) => `${base}:ou/${org.organizationId}/${ouId}`,
    account: (accountId: string) => `${base}:account/${org.organizationId}/${accountId}`,
  };
}

export const invalidInput = (reason: string, message: string) =>
  new DomainError('invalid_argument', 'organization.invalid_input', message, { reason });

/** Keys starting with aws: belong to AWS; AWS Organizations refuses to set or remove them. */
export function checkTagKeys(keys: string[]): void {
  if (keys.some((k) => /^aws:/i.test(k))) {
    throw invalidInput('INVALID_SYSTEM_TAGS_PARAMETER', 'Tag keys that begin with aws: are reserved for AWS use.');
  }
  if (new Set(keys).size !== keys.length) {
    throw invalidInput('DUPLICATE_TAG_KEY', 'The same tag key appears more than once in the request.');
  }
}

/** Tags given with a new resource: valid keys and within the per-resource limit. */
export function checkNewTags(tags: Tag[]): void {
  checkTagKeys(tags.map((t) => t.Key));
  checkTagCount(tags.length);
}

export function checkTagCount(count: number): void {
  if (count > MAX_TAGS_PER_RESOURCE) {
    throw failedPrecondition('organization.constraint_violation', `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags.`, {
      reason: 'MAX_TAG_LIMIT_EXCEEDED',
    });
  }
}
