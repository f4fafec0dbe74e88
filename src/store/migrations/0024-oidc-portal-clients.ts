// 0024-oidc-portal-clients: a client registered without scopes is one for the AWS access portal,
// and says so in its registered scope (`sso:account:access`). Before, its tokens carried no scope
// and the portal took any scope-less token, which any application could also get from the
// provider's own device endpoint. Clients registered before with nothing but `openid` and
// `offline_access` (the AWS CLI's legacy profiles, cached for 90 days) are marked here, so their
// tokens keep reaching the portal.

import { sql, type Kysely } from 'kysely';

const PORTAL_SCOPE = 'sso:account:access';

export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ id: string; payload: string }>`select id, payload from oidc_models where model = 'Client'`.execute(db);
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as { scope?: string };
    const scopes = new Set((payload.scope ?? '').split(' ').filter(Boolean));
    if ([...scopes].some((s) => s !== 'openid' && s !== 'offline_access')) continue;
    payload.scope = [...scopes, PORTAL_SCOPE].join(' ');
    await sql`update oidc_models set payload = ${JSON.stringify(payload)} where model = 'Client' and id = ${row.id}`.execute(db);
  }
}
