// 0024-oidc-portal-clients: a client registered without scopes is one for the AWS access portal,
// and says so in its registered scope (`sso:account:access`). Before, its tokens carried no scope
// and the portal took any scope-less token, which any application could also get from the
// provider's own device endpoint. Clients registered before with nothing but `openid` and
// `offline_access` in their scope are marked here, so the AWS CLI's legacy profiles (cached for 90
// days) keep reaching the portal. One that asked for `openid` or `offline_access` itself was stored
// alike: its RegisterClient event, which names the scopes asked for, tells the two apart; a client
// whose event is gone (pruned) is taken for the AWS CLI's, the common case.

import { sql, type Kysely } from 'kysely';

const PORTAL_SCOPE = 'sso:account:access';

export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ id: string; payload: string }>`select id, payload from oidc_models where model = 'Client'`.execute(db);
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as { scope?: string };
    const scopes = new Set((payload.scope ?? '').split(' ').filter(Boolean));
    if ([...scopes].some((s) => s !== 'openid' && s !== 'offline_access')) continue;
    if ((await scopesAskedFor(db, row.id))?.length) continue;
    payload.scope = [...scopes, PORTAL_SCOPE].join(' ');
    await sql`update oidc_models set payload = ${JSON.stringify(payload)} where model = 'Client' and id = ${row.id}`.execute(db);
  }
}

/** The scopes the client's RegisterClient asked for, from its audit event; undefined when there is none. */
async function scopesAskedFor(db: Kysely<unknown>, clientId: string): Promise<string[] | undefined> {
  const { rows } = await sql<{ request_parameters: string | null; response_elements: string | null }>`
    select request_parameters, response_elements from audit_events
    where event_name = 'RegisterClient' and error_code is null and response_elements like ${`%${clientId}%`}`.execute(db);
  for (const r of rows) {
    const made = JSON.parse(r.response_elements ?? '{}') as { clientId?: string };
    if (made.clientId !== clientId) continue;
    const asked = (JSON.parse(r.request_parameters ?? '{}') as { scopes?: unknown }).scopes;
    return Array.isArray(asked) ? asked.map(String) : [];
  }
  return undefined;
}
