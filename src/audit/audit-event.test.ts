// What an audit event may carry: secret-looking fields are hidden, however deep; the names that only
// look like secrets (a page token, the kind of credential used) stay readable.

import { describe, expect, it } from 'vitest';
import { HIDDEN, stringifiesCanonically, withoutSecrets } from './audit-event.js';

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

describe('withoutSecrets keeps the shape of what it copies', () => {
  it('keeps a "__proto__" field as a field, and cuts lists and objects at their bounds', () => {
    const parsed = JSON.parse('{"__proto__":{"password":"p"},"list":[1,2,3]}') as Record<string, unknown>;
    const copy = withoutSecrets(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe(`{"__proto__":{"password":"${HIDDEN}"},"list":[1,2,3]}`);
    const wide = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(withoutSecrets(wide) as object)).toHaveLength(100);
    expect(withoutSecrets(Array.from({ length: 150 }, (_, i) => i))).toHaveLength(100);
    expect(withoutSecrets(Array.from({ length: 150 }, (_, i) => i), 0, 1000)).toHaveLength(150);
  });
});

describe('withoutSecrets writes keys in the chain\'s canonical order', () => {
  it('sorts every object\'s keys, and says when JSON.stringify of the copy is canonical', () => {
    const copy = withoutSecrets({ userName: 'b', Name: { givenName: 'g', familyName: 'f' }, list: [{ z: 1, a: 2 }], émoji: 1, Zed: 2 });
    expect(JSON.stringify(copy)).toBe('{"Name":{"familyName":"f","givenName":"g"},"Zed":2,"list":[{"a":2,"z":1}],"userName":"b","émoji":1}');
    expect(stringifiesCanonically(copy)).toBe(true);
    // V8 writes index-like keys first whatever the order they were added in; toJSON would be called.
    expect(stringifiesCanonically(withoutSecrets({ a: { '10': 1, '9': 2 } }))).toBe(false);
    expect(stringifiesCanonically(withoutSecrets({ toJSON: 'x' }))).toBe(false);
    // Something built by hand is not known to be canonical; a scalar is.
    expect(stringifiesCanonically({ b: 1, a: 2 })).toBe(false);
    expect(stringifiesCanonically('text')).toBe(true);
    expect(stringifiesCanonically(null)).toBe(true);
  });

  it('keeps the first 100 keys in the caller\'s order, as before, and sorts those', () => {
    const wide = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${149 - i}`, i]));
    const kept = Object.keys(withoutSecrets(wide) as object);
    expect(kept).toEqual(Array.from({ length: 100 }, (_, i) => `k${149 - i}`).sort());
  });
});

