// AWS Organizations' fixed rules: ARN shapes, parent types and tag limits.

import { describe, expect, it } from 'vitest';
import { arnsOf, checkNewTags, checkTagKeys, parentTypeOf } from './organization-rules.js';

describe('organization rules', () => {
  it('builds ARNs as AWS Organizations does', () => {
    const arns = arnsOf({ organizationId: 'o-abcde12345', managementAccountId: '111122223333' });
    expect(arns.organization).toBe('arn:aws:organizations::111122223333:organization/o-abcde12345');
    expect(arns.root('r-ab12')).toBe('arn:aws:organizations::111122223333:root/o-abcde12345/r-ab12');
    expect(arns.organizationalUnit('ou-ab12-abcdefgh')).toBe('arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-abcdefgh');
    expect(arns.account('444455556666')).toBe('arn:aws:organizations::111122223333:account/o-abcde12345/444455556666');
  });

  it('tells a root from an OU by its id', () => {
    expect(parentTypeOf('r-ab12')).toBe('ROOT');
    expect(parentTypeOf('ou-ab12-abcdefgh')).toBe('ORGANIZATIONAL_UNIT');
  });

  it('refuses aws: keys in any case and duplicate keys, with AWS reasons', () => {
    expect(() => checkTagKeys(['AWS:owner'])).toThrow(expect.objectContaining({ kind: 'invalid_argument', details: { reason: 'INVALID_SYSTEM_TAGS_PARAMETER' } }));
    expect(() => checkTagKeys(['a', 'a'])).toThrow(expect.objectContaining({ details: { reason: 'DUPLICATE_TAG_KEY' } }));
    expect(() => checkTagKeys(['a', 'A', 'awsome'])).not.toThrow();
  });

  it('allows fifty tags on a resource and no more', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: '' }));
    expect(() => checkNewTags(tags(50))).not.toThrow();
    expect(() => checkNewTags(tags(51))).toThrow(expect.objectContaining({ kind: 'failed_precondition', details: { reason: 'MAX_TAG_LIMIT_EXCEEDED' } }));
  });
});
