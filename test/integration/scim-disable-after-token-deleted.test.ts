// A SCIM PATCH that disables a user commits, and then ends the user's portal sessions in a
// transaction of its own (an AwsServiceEvent: the system's consequence of the change, not a change
// of the caller's). A token deleted in between must not undo half of it: the consequence is carried
// out, and the request is not answered 401 for a change that was made.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATCH_OP_SCHEMA as PATCH_OP } from '../../src/protocols/scim/schemas.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { portalFixture, suffix, until } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('a SCIM disable whose token is deleted as it commits, on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(() => server?.close());

  // PostgreSQL only: the pause between the disable's commit and the step after it is made by
  // another connection's table lock. SQLite locks the whole file, so no such pause can be staged,
  // and there the delete cannot come between the two (transactions take turns whole).
  it.skipIf(dialect === 'sqlite')("ends the disabled user's sessions and answers 200", async () => {
    const admin = systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);
    const leaked = await server.reg.scimTokens.createToken(admin);
    const user = await portalFixture(server).newUser();
    const password = `Str0ng#Passw0rd-${suffix()}`;
    await server.reg.auth.setPassword(admin, user.userName, { password, oneTime: false });
    const signedIn = await server.reg.auth.signIn(systemContext('signin.amazonaws.com', 'us-east-1', `s-${suffix()}`), user.userName, password);
    expect(signedIn.kind).toBe('ok');
    const db = server.reg.database.db;
    const sessions = async () => (await db.selectFrom('auth_sessions').select('session_id').where('user_id', '=', user.userId).execute()).length;
    expect(await sessions()).toBe(1);

    // Another connection holds the sessions table: the disable commits, and the step after it,
    // which reads the user's sessions, waits here; meanwhile the administrator deletes the token.
    const url = (server.reg.config as { databaseUrl?: string }).databaseUrl!;
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table auth_sessions in access exclusive mode');
      const patched = fetch(`${server.url}/scim/v2/Users/${user.userId}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${leaked.token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }),
      });
      await until(
        async () => (await db.selectFrom('directory_users').select('status').where('user_id', '=', user.userId).executeTakeFirstOrThrow()).status,
        (s) => s === 'DISABLED',
      );
      await server.reg.scimTokens.deleteToken(admin, leaked.tokenId);
      await holder.query('rollback');
      const res = await patched;
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(await sessions()).toBe(0);
    } finally {
      await holder.end();
    }
  });
});
