// The attribute rules and UpdateUser/UpdateGroup operations, without a server.

import { describe, expect, it } from 'vitest';
import { isDomainError } from '../shared/errors.js';
import {
  checkExtensionNames,
  checkGroupProfile,
  checkUserExtensions,
  checkUserProfile,
  primaryEmail,
  splitUserStatus,
  updatedGroupProfile,
  updatedUserProfile,
} from './attributes.js';
import type { UserProfile } from './directory-store.js';

const jane: UserProfile = { userName: 'jane', displayName: 'Jane Doe', name: { givenName: 'Jane', familyName: 'Doe' } };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isDomainError(err) && err.kind === 'invalid_argument') return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('user profile rules', () => {
  it('accepts a full profile and drops nulls and empty lists', () => {
    const profile = checkUserProfile({ ...jane, nickName: null, emails: [], phoneNumbers: [{ value: '+1 555', primary: true }] });
    expect(profile).toEqual({ ...jane, phoneNumbers: [{ value: '+1 555', primary: true }] });
  });

  it.each([
    ['a missing userName', { ...jane, userName: undefined }, "'userName' is required"],
    ['a missing given name', { ...jane, name: { familyName: 'Doe' } }, "'name.givenName' is required"],
    ['a missing display name', { ...jane, displayName: undefined }, "'displayName' is required"],
    ['a UserName with spaces', { ...jane, userName: 'jane doe' }, 'not allowed'],
    ['a reserved UserName in any case', { ...jane, userName: 'ADMINISTRATOR' }, 'reserved'],
    ['an over-long title', { ...jane, title: 'x'.repeat(1025) }, '1 to 1024'],
    ['an unknown attribute', { ...jane, favouriteColour: 'blue' }, "'favouriteColour' is not a known attribute"],
    ['two primary emails', { ...jane, emails: [{ value: 'a', primary: true }, { value: 'b', primary: true }] }, 'only one primary'],
    ['four photos', { ...jane, photos: [1, 2, 3, 4].map((i) => ({ value: `p${i}` })) }, 'at most 3'],
    ['a photo without a value', { ...jane, photos: [{ type: 'x' }] }, "'photos[0].value' is required"],
    ['a number for a string', { ...jane, title: 42 }, 'must be a string'],
  ])('refuses %s', (_label, profile, message) => {
    expect(refusal(() => checkUserProfile(profile))).toContain(message);
  });

  it('allows up to 50 values in a multi-valued attribute, more than AWS', () => {
    const emails = Array.from({ length: 50 }, (_, i) => ({ value: `u${i}@example.com` }));
    expect(checkUserProfile({ ...jane, emails }).emails).toHaveLength(50);
    expect(refusal(() => checkUserProfile({ ...jane, emails: [...emails, { value: 'one-more' }] }))).toContain('at most 50');
  });

  it('finds the primary email, else the first', () => {
    expect(primaryEmail({ ...jane, emails: [{ value: 'a' }, { value: 'b', primary: true }] })).toBe('b');
    expect(primaryEmail({ ...jane, emails: [{ value: 'a' }, { value: 'b' }] })).toBe('a');
    expect(primaryEmail(jane)).toBeUndefined();
  });
});

describe('update operations', () => {
  it('sets nested and top-level attributes by path, case-insensitively, and removes on null', () => {
    const next = updatedUserProfile({ ...jane, title: 'Intern' }, [
      { attributePath: 'name.GivenName', attributeValue: 'Janet' },
      { attributePath: 'displayName', attributeValue: 'Janet Doe' },
      { attributePath: 'title', attributeValue: null },
      { attributePath: 'name.middleName', attributeValue: 'Q' },
    ]);
    expect(next).toEqual({ userName: 'jane', displayName: 'Janet Doe', name: { givenName: 'Janet', familyName: 'Doe', middleName: 'Q' } });
  });

  it('leaves the input untouched and refuses the whole update when the result is invalid', () => {
    const current = structuredClone(jane);
    expect(refusal(() => updatedUserProfile(current, [{ attributePath: 'title', attributeValue: 'x' }, { attributePath: 'name.familyName' }]))).toContain(
      "'name.familyName' is required",
    );
    expect(current).toEqual(jane);
  });

  it.each(['favouriteColour', 'emails.value', 'name.givenName.first', 'userName.x'])('refuses the unknown path %s', (path) => {
    expect(refusal(() => updatedUserProfile(jane, [{ attributePath: path, attributeValue: 'x' }]))).toContain('Unknown attribute path');
  });

  it('updates groups by the same rules', () => {
    expect(updatedGroupProfile({ displayName: 'Eng', description: 'd' }, [{ attributePath: 'description' }])).toEqual({ displayName: 'Eng' });
    expect(refusal(() => updatedGroupProfile({ displayName: 'Eng' }, [{ attributePath: 'displayName' }]))).toContain('is required');
    expect(refusal(() => checkGroupProfile({ displayName: 'AWSAdministrators' }))).toContain('reserved');
  });
});

describe('the userStatus operation', () => {
  it('is taken out of the profile operations, by any case of its path; the last one wins', () => {
    const title = { attributePath: 'title', attributeValue: 'Boss' };
    expect(splitUserStatus([title, { attributePath: 'UserStatus', attributeValue: 'DISABLED' }, { attributePath: 'userstatus', attributeValue: 'ENABLED' }])).toEqual({
      status: 'ENABLED',
      profileOperations: [title],
    });
    expect(splitUserStatus([title])).toEqual({ status: undefined, profileOperations: [title] });
  });

  it.each(['SUSPENDED', 'disabled', '', 1, null, undefined])('refuses the value %j: a status can be set, not removed', (value) => {
    expect(refusal(() => splitUserStatus([{ attributePath: 'userStatus', attributeValue: value }]))).toContain('must be one of: ENABLED, DISABLED');
  });
});

describe('extensions', () => {
  it('accepts the enterprise extension and nothing else', () => {
    expect(checkUserExtensions({ 'aws:identitystore:enterprise': { costCenter: '7', manager: { value: 'boss' } } })).toEqual({
      'aws:identitystore:enterprise': { costCenter: '7', manager: { value: 'boss' } },
    });
    expect(refusal(() => checkUserExtensions({ 'urn:other': {} }))).toContain('Unknown extension');
    expect(refusal(() => checkUserExtensions({ 'aws:identitystore:enterprise': { salary: '1' } }))).toContain('not a known attribute');
    expect(refusal(() => checkExtensionNames(['aws:identitystore:enterprise', 'x']))).toContain('Unknown extension x');
  });
});
