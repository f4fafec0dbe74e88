// `npm run bench:scim-provision`: provisioning through SCIM over HTTP on SQLite, as an IdP's sync
// does it, by two paths, each on a fresh server (target: 100,000 users, 2,000 groups and 200,000
// memberships in ≤ 120 s on 2 cores):
//   (a) POST /Users one by one, POST /Groups, then PATCH on each group adding its members (≤ 1,000
//       per request; the response leaves the members out, `excludedAttributes=members`);
//   (b) /Bulk: POST /Users in bulks of `bulk-ops` operations, then POST /Groups with their members
//       in bulks that fit maxPayloadSize.
// Beside them, the same-run baseline: the trivial Fastify route, driven by the same client with
// the same connections, posting a user's JSON. Server and client CPU seconds are given per phase.
// Flags or env: --users (BENCH_USERS, 100000), --groups (BENCH_GROUPS, 2000), --memberships
// (BENCH_MEMBERSHIPS, 200000), --connections (BENCH_CONNECTIONS, 16, for (a) and the baseline),
// --bulk-connections (BENCH_BULK_CONNECTIONS, 4, for (b)), --bulk-ops (BENCH_BULK_OPS, 1000),
// --baseline-seconds (BENCH_BASELINE_SECONDS, 5), --paths=a,b (BENCH_PATHS).
// Prints one JSON object (also written to .bench-results/scim-provision-<time>.json).

import Database from 'better-sqlite3';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, cpuSecondsOf, machine, rssMiB } from './lib.mjs';
import { client, measureBaseline, option, pool, startScimServer, stop } from './scim-lib.mjs';

const USERS = option('users', 'BENCH_USERS', 100_000);
const GROUPS = option('groups', 'BENCH_GROUPS', 2_000);
const MEMBERSHIPS = option('memberships', 'BENCH_MEMBERSHIPS', 200_000);
// Path (a) waits on a commit per request, so more requests in flight share more of each commit;
// a /Bulk runs up to 32 of its own operations at once, so a few bulks in flight are enough.
const CONNECTIONS = option('connections', 'BENCH_CONNECTIONS', 16);
const BULK_CONNECTIONS = option('bulk-connections', 'BENCH_BULK_CONNECTIONS', 4);
const BULK_OPS = option('bulk-ops', 'BENCH_BULK_OPS', 1000);
const BASELINE_SECONDS = option('baseline-seconds', 'BENCH_BASELINE_SECONDS', 5);
const pathsArg = process.argv.find((a) => a.startsWith('--paths='))?.slice('--paths='.length) ?? process.env.BENCH_PATHS ?? 'a,b';
const PATHS = pathsArg.split(',').map((p) => p.trim());
const MAX_MEMBERS_PER_PATCH = 1000;
const BULK_PAYLOAD_BUDGET = 1.5 * 1024 * 1024;
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const log = (...a) => console.error('[bench:scim-provision]', ...a);

/** A user as Okta or Entra ID sends one: names, an email, an externalId, the enterprise extension. */
const userOf = (i) => ({
  schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
  userName: `user${i}@bench.example.com`,
  externalId: `ext-${i}`,
  name: { givenName: 'Bench', familyName: `User ${i}` },
  displayName: `Bench User ${i}`,
  emails: [{ value: `user${i}@bench.example.com`, type: 'work', primary: true }],
  active: true,
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: `Dept ${i % 50}` },
});

/** Group g's members: a contiguous run of users, so that every user is in MEMBERSHIPS/USERS groups. */
const perGroup = Math.floor(MEMBERSHIPS / GROUPS);
const memberIndexesOf = (g) => Array.from({ length: perGroup + (g < MEMBERSHIPS % GROUPS ? 1 : 0) }, (_, k) => (g * perGroup + k) % USERS);

const idFromLocation = (location) => location.slice(location.lastIndexOf('/') + 1);

function expectStatus(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
}

/** Runs one phase: wall time, rate, and the CPU seconds of the server and of this client. */
async function phase(server, name, objects, requests, run) {
  const [cpu0, client0, t0] = [cpuSecondsOf(server.child.pid), process.cpuUsage(), performance.now()];
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(client0);
  const figures = {
    seconds: +seconds.toFixed(2),
    objects,
    objectsPerSec: Math.round(objects / seconds),
    requests: requests(),
    requestsPerSec: Math.round(requests() / seconds),
    serverCpuSeconds: +(cpuSecondsOf(server.child.pid) - cpu0).toFixed(2),
    clientCpuSeconds: +((clientCpu.user + clientCpu.system) / 1e6).toFixed(2),
  };
  log(name, JSON.stringify(figures));
  return figures;
}

/** What the database holds at the end: the check that every object was provisioned. */
function countsOf(dataDir) {
  const db = new Database(path.join(dataDir, 'atrium.db'), { readonly: true });
  try {
    const count = (table) => db.prepare(`SELECT count(*) AS n FROM ${table}`).get().n;
    return { users: count('directory_users'), groups: count('directory_groups'), memberships: count('directory_memberships') };
  } finally {
    db.close();
  }
}

async function pathA(port) {
  const server = await startScimServer(port);
  const c = client(port, CONNECTIONS, { authorization: `Bearer ${server.token}` });
  const userIds = new Array(USERS);
  const groupIds = new Array(GROUPS);
  let requests = 0;
  const t0 = performance.now();
  const phases = {};
  phases.users = await phase(server, '(a) POST /Users', USERS, () => requests, () =>
    pool(USERS, CONNECTIONS, async (i) => {
      const r = await c.request('POST', '/scim/v2/Users', userOf(i));
      requests++;
      expectStatus(r, 201, `POST /Users ${i}`);
      userIds[i] = JSON.parse(r.text).id;
    }),
  );
  requests = 0;
  phases.groups = await phase(server, '(a) POST /Groups', GROUPS, () => requests, () =>
    pool(GROUPS, CONNECTIONS, async (g) => {
      const r = await c.request('POST', '/scim/v2/Groups?excludedAttributes=members', { schemas: [GROUP_SCHEMA], displayName: `Bench Group ${g}`, externalId: `gext-${g}` });
      requests++;
      expectStatus(r, 201, `POST /Groups ${g}`);
      groupIds[g] = JSON.parse(r.text).id;
    }),
  );
  const patches = [];
  for (let g = 0; g < GROUPS; g++) {
    const members = memberIndexesOf(g);
    for (let k = 0; k < members.length; k += MAX_MEMBERS_PER_PATCH) patches.push([g, members.slice(k, k + MAX_MEMBERS_PER_PATCH)]);
  }
  requests = 0;
  phases.memberships = await phase(server, '(a) PATCH /Groups add members', MEMBERSHIPS, () => requests, () =>
    pool(patches.length, CONNECTIONS, async (p) => {
      const [g, members] = patches[p];
      const body = { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members.map((i) => ({ value: userIds[i] })) }] };
      const r = await c.request('PATCH', `/scim/v2/Groups/${groupIds[g]}?excludedAttributes=members`, body);
      requests++;
      expectStatus(r, 200, `PATCH /Groups ${g}`);
    }),
  );
  const totalSeconds = (performance.now() - t0) / 1000;
  const result = { totalSeconds: +totalSeconds.toFixed(2), objectsPerSec: Math.round((USERS + GROUPS + MEMBERSHIPS) / totalSeconds), phases, serverRssMiB: rssMiB(server.child.pid) };
  c.close();
  await stop(server.child);
  result.stored = countsOf(server.dataDir);
  rmSync(server.dataDir, { recursive: true, force: true });
  return result;
}

async function pathB(port) {
  const server = await startScimServer(port);
  const c = client(port, BULK_CONNECTIONS, { authorization: `Bearer ${server.token}` });
  const userIds = new Array(USERS);
  let requests = 0;
  let operations = 0;
  const t0 = performance.now();
  const phases = {};

  /** One /Bulk request; every operation must succeed. Returns the results. */
  const bulk = async (ops) => {
    const r = await c.request('POST', '/scim/v2/Bulk', { schemas: [BULK_REQUEST], Operations: ops });
    requests++;
    operations += ops.length;
    expectStatus(r, 200, 'POST /Bulk');
    const results = JSON.parse(r.text).Operations;
    const failed = results.find((o) => Number(o.status) >= 300);
    if (failed || results.length !== ops.length) throw new Error(`bulk operation failed: ${JSON.stringify(failed ?? results.length)}`);
    return results;
  };

  const userBulks = Math.ceil(USERS / BULK_OPS);
  phases.users = await phase(server, '(b) /Bulk POST /Users', USERS, () => requests, () =>
    pool(userBulks, BULK_CONNECTIONS, async (b) => {
      const first = b * BULK_OPS;
      const ops = [];
      for (let i = first; i < Math.min(USERS, first + BULK_OPS); i++) ops.push({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: userOf(i) });
      const results = await bulk(ops);
      results.forEach((o, k) => (userIds[first + k] = idFromLocation(o.location)));
    }),
  );

  // As many groups per bulk as fit the payload budget, with their members inline.
  const groupBytes = JSON.stringify({ method: 'POST', path: '/Groups', bulkId: 'g00000', data: { schemas: [GROUP_SCHEMA], displayName: 'Bench Group 00000', members: memberIndexesOf(0).map(() => ({ value: userIds[0] })) } }).length;
  const groupsPerBulk = Math.max(1, Math.min(BULK_OPS, Math.floor(BULK_PAYLOAD_BUDGET / groupBytes)));
  const groupBulks = Math.ceil(GROUPS / groupsPerBulk);
  requests = 0;
  operations = 0;
  phases.groups = await phase(server, `(b) /Bulk POST /Groups with members (${groupsPerBulk} per bulk)`, GROUPS + MEMBERSHIPS, () => requests, () =>
    pool(groupBulks, BULK_CONNECTIONS, async (b) => {
      const ops = [];
      for (let g = b * groupsPerBulk; g < Math.min(GROUPS, (b + 1) * groupsPerBulk); g++) {
        const data = { schemas: [GROUP_SCHEMA], displayName: `Bench Group ${g}`, externalId: `gext-${g}`, members: memberIndexesOf(g).map((i) => ({ value: userIds[i] })) };
        ops.push({ method: 'POST', path: '/Groups', bulkId: `g${g}`, data });
      }
      await bulk(ops);
    }),
  );
  phases.groups.groupsPerBulk = groupsPerBulk;
  const totalSeconds = (performance.now() - t0) / 1000;
  const result = { totalSeconds: +totalSeconds.toFixed(2), objectsPerSec: Math.round((USERS + GROUPS + MEMBERSHIPS) / totalSeconds), phases, serverRssMiB: rssMiB(server.child.pid) };
  c.close();
  await stop(server.child);
  result.stored = countsOf(server.dataDir);
  rmSync(server.dataDir, { recursive: true, force: true });
  return result;
}

const results = {
  machine: machine(),
  when: new Date().toISOString(),
  config: { users: USERS, groups: GROUPS, memberships: MEMBERSHIPS, connections: CONNECTIONS, bulkConnections: BULK_CONNECTIONS, bulkOps: BULK_OPS, database: 'sqlite' },
  targetSeconds: 120,
};
const basePort = 20000 + Math.floor(Math.random() * 1000);
results.baseline = await measureBaseline(basePort, CONNECTIONS, BASELINE_SECONDS, 'POST', JSON.stringify(userOf(1)));
log('baseline', JSON.stringify(results.baseline));
if (PATHS.includes('a')) {
  results.postAndPatch = await pathA(basePort + 1);
  results.postAndPatch.requestsRatioToBaseline = +(results.postAndPatch.phases.users.requestsPerSec / results.baseline.reqPerSec).toFixed(3);
}
if (PATHS.includes('b')) results.bulk = await pathB(basePort + 2);

const out = JSON.stringify(results, null, 2);
mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `scim-provision-${results.when.replace(/[:.]/g, '-')}.json`), out);
console.log(out);
