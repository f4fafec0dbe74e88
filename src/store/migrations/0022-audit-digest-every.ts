// 0022-audit-digest-every: each digest signs the auditDigestEvery it was made under (digest v2).
// The sealer signs a digest in the same transaction as the event that reaches that many positions
// past the last one, so no more than that many events ever follow a digest unsigned: with the
// setting signed into the digest, `audit verify` and the sealer can tell a longer unsigned stretch
// (later digests deleted, to rewrite what they vouched for) from a change of the setting, whatever
// other digests were deleted too. Digests made before (NULL) keep their v1 message.

import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_digests').addColumn('every', 'integer').execute();
}
