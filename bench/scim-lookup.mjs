// `npm run bench:scim-lookup`: SCIM look-ups an IdP's sync makes, over HTTP on SQLite, with
// `users` users (default 100,000) provisioned first through /Bulk:
//   - `GET /Users?filter=userName eq "…"` for random users (target p99 ≤ 10 ms), one request at a
//     time and with `connections` in flight;
//   - `GET /Groups/{id}` of a group of 10,000 members, every member returned (target ≤ 200 ms).
// Beside them, the same-run baseline: the trivial Fastify route, driven by the same client, one
// request at a time and with the same connections.
// Flags or env: --users (BENCH_USERS, 100000), --group-members (BENCH_GROUP_MEMBERS, 10000),
// --connections (BENCH_CONNECTIONS, 4), --duration (BENCH_DURATION, seconds per run, 10),
// --group-reads (BENCH_GROUP_READS, 50). Prints one JSON object (also written to
// .bench-results/scim-lookup-<time>.json).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, machine, rssMiB } from './lib.mjs';
import { client, latencyFigures, measureBaseline, option, pool, startScimServer, stop } from './scim-lib.mjs';

const USERS = option('users', 'BENCH_USERS', 100_000);
const GROUP_MEMBERS = Math.min(USERS, option('group-members', 'BENCH_GROUP_MEMBERS', 10_000));
const CONNECTIONS = option('connections', 'BENCH_CONNECTIONS', 4);
const DURATION = option('duration', 'BENCH_DURATION', 10);
const GROUP_READS = option('group-reads', 'BENCH_GROUP_READS', 50);
const BULK_OPS = 1000;
const log = (...a) => console.error('[bench:scim-lookup]', ...a);

const userName = (i) => `lookup${i}@bench.example.com`;
const userOf = (i) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: userName(i),
  externalId: `ext-${i}`,
  name: { givenName: 'Lookup', familyName: `User ${i}` },
  emails: [{ value: userName(i), type: 'work', primary: true }],
});

/** `work()` repeated for `seconds` by `connections` loops; latencies and requests per second. */
async function timed(connections, seconds, work) {
  const latencies = [];
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const start = performance.now();
        await work();
        latencies.push(performance.now() - start);
      }
    }),
  );
  return { reqPerSec: Math.round(latencies.length / ((performance.now() - t0) / 1000)), ...latencyFigures(latencies) };
}

const results = { machine: machine(), when: new Date().toISOString(), config: { users: USERS, groupMembers: GROUP_MEMBERS, connections: CONNECTIONS, durationSeconds: DURATION, database: 'sqlite' } };
const basePort = 21000 + Math.floor(Math.random() * 1000);
results.baseline = {
  oneAtATime: await measureBaseline(basePort, 1, DURATION),
  concurrent: await measureBaseline(basePort, CONNECTIONS, DURATION),
};
log('baseline', JSON.stringify(results.baseline));

const server = await startScimServer(basePort + 1);
const c = client(basePort + 1, CONNECTIONS, { authorization: `Bearer ${server.token}` });
const one = client(basePort + 1, 1, { authorization: `Bearer ${server.token}` });

// Provisioning, through /Bulk: setup, timed only for the record.
const userIds = new Array(USERS);
const seed0 = performance.now();
await pool(Math.ceil(USERS / BULK_OPS), CONNECTIONS, async (b) => {
  const ops = [];
  for (let i = b * BULK_OPS; i < Math.min(USERS, (b + 1) * BULK_OPS); i++) ops.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: userOf(i) });
  const r = await c.request('POST', '/scim/v2/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: ops });
  const answered = r.status === 200 ? JSON.parse(r.text).Operations : [];
  if (answered.length !== ops.length || answered.some((o) => o.status !== '201')) throw new Error(`seeding failed: ${r.status} ${r.text.slice(0, 300)}`);
  answered.forEach((o, k) => (userIds[b * BULK_OPS + k] = o.location.slice(o.location.lastIndexOf('/') + 1)));
});
const members = userIds.slice(0, GROUP_MEMBERS).map((value) => ({ value }));
const created = await c.request('POST', '/scim/v2/Groups?excludedAttributes=members', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Everyone in lookup', members });
if (created.status !== 201) throw new Error(`POST /Groups failed: ${created.status} ${created.text.slice(0, 300)}`);
const groupId = JSON.parse(created.text).id;
results.seedSeconds = +((performance.now() - seed0) / 1000).toFixed(1);
log(`seeded ${USERS} users and a group of ${GROUP_MEMBERS} in ${results.seedSeconds} s`);

const lookUp = (http) => async () => {
  const i = Math.floor(Math.random() * USERS);
  const r = await http.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(i)}"`)}`);
  if (r.status !== 200 || JSON.parse(r.text).Resources?.[0]?.id !== userIds[i]) throw new Error(`lookup of ${userName(i)}: ${r.status} ${r.text.slice(0, 200)}`);
};
// Warm-up: the first requests compile the hot paths.
for (let k = 0; k < 300; k++) await lookUp(one)();
const oneAtATime = await timed(1, DURATION, lookUp(one));
const concurrent = await timed(CONNECTIONS, DURATION, lookUp(c));
results.userNameEq = {
  oneAtATime: { ...oneAtATime, p99RatioToBaseline: +(oneAtATime.p99Ms / results.baseline.oneAtATime.p99Ms).toFixed(2) },
  concurrent: { ...concurrent, reqPerSecRatioToBaseline: +(concurrent.reqPerSec / results.baseline.concurrent.reqPerSec).toFixed(3) },
  targetP99Ms: 10,
};
log('userName eq', JSON.stringify(results.userNameEq));

const groupLatencies = [];
let bytes = 0;
for (let k = 0; k < GROUP_READS + 3; k++) {
  const t0 = performance.now();
  const r = await one.request('GET', `/scim/v2/Groups/${groupId}`);
  const ms = performance.now() - t0;
  const group = JSON.parse(r.text);
  if (r.status !== 200 || group.members?.length !== GROUP_MEMBERS) throw new Error(`GET /Groups/${groupId}: ${r.status}, ${group.members?.length} members`);
  bytes = r.text.length;
  if (k >= 3) groupLatencies.push(ms);
}
results.largeGroupGet = { members: GROUP_MEMBERS, responseBytes: bytes, ...latencyFigures(groupLatencies), targetMs: 200 };
log('GET /Groups/{id}', JSON.stringify(results.largeGroupGet));
results.serverRssMiB = rssMiB(server.child.pid);

c.close();
one.close();
await stop(server.child);
rmSync(server.dataDir, { recursive: true, force: true });

const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `scim-lookup-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
