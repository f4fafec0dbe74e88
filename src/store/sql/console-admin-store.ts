// SQL implementation of the console grants store port (src/instance/console-admins.ts).

import type { ConsoleAdminStore, ConsoleGrant } from '../../instance/console-admins.js';
import type { Database, Db } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { ConsoleAdminsTable } from '../schema/console.js';

const toGrant = (r: ConsoleAdminsTable): ConsoleGrant => ({
  userId: r.user_id,
  userName: r.user_name,
  policy: r.policy as ConsoleGrant['policy'],
  grantedAt: Number(r.granted_at),
  grantedBy: r.granted_by,
});

// Every console request reads its grant: precompiled, as the other per-request reads are.
const findById = precompiled<Database, { id: string }, ConsoleAdminsTable>((db, arg) => db.selectFrom('console_admins').selectAll().where('user_id', '=', arg('id')));

export class SqlConsoleAdminStore implements ConsoleAdminStore {
  constructor(private readonly db: Db) {}

  async findGrant(userId: string): Promise<ConsoleGrant | undefined> {
    const [r] = (await findById(this.db, { id: userId })).rows;
    return r && toGrant(r);
  }

  async putGrant(g: ConsoleGrant): Promise<void> {
    await this.db
      .insertInto('console_admins')
      .values({ user_id: g.userId, user_name: g.userName, policy: g.policy, granted_at: g.grantedAt, granted_by: g.grantedBy })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ user_name: g.userName, policy: g.policy, granted_at: g.grantedAt, granted_by: g.grantedBy }))
      .execute();
  }

  async deleteGrant(userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('console_admins').where('user_id', '=', userId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async listGrants(): Promise<ConsoleGrant[]> {
    return (await this.db.selectFrom('console_admins').selectAll().orderBy('user_name').execute()).map(toGrant);
  }
}
