// What an audit event may carry: secret-looking fields are hidden, however deep; the names that only
// look like secrets (a page token, the kind of credential used) stay readable.

import { describe, expect, it } from 'vitest';
import { HIDDEN, withoutSecrets } from './audit-event.js';

describe('withoutSecrets', () => {
  it('hides passwords, secrets, tokens and private keys at any depth, and nothing else', () => {
    const input = {
      userName: 'alice',
      password: 'Hunter2!x',
      nested: { clientSecret: 's3cr3t', accessToken: 'tok', list: [{ privateKey: 'pem' }, { value: 'kept' }] },
      nextToken: 'page-2',
      credentialType: 'PASSWORD',
    };
    expect(withoutSecrets(input)).toEqual({
      userName: 'alice',
      password: HIDDEN,
      nested: { clientSecret: HIDDEN, accessToken: HIDDEN, list: [{ privateKey: HIDDEN }, { value: 'kept' }] },
      nextToken: 'page-2',
      credentialType: 'PASSWORD',
    });
  });

  it('still hides a field that merely contains "credential" or "token" in a longer name', () => {
    expect(withoutSecrets({ roleCredentials: { a: 1 }, credentialTypeSecret: 'x', refreshTokenHint: 'y' })).toEqual({
      roleCredentials: HIDDEN,
      credentialTypeSecret: HIDDEN,
      refreshTokenHint: HIDDEN,
    });
  });
});
