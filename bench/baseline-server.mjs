// The same-run baseline: a trivial Fastify route on this machine.
// With BASELINE_ARGON2_HASH set it also serves POST /login/password, which only verifies the form's
// password against that hash and redirects: the least a password sign-in over HTTP can cost.
// BASELINE_HASHES_AT_ONCE caps the verifies running at once (the rest wait in turn), as Atrium does;
// BASELINE_HASH_THREADS runs them on threads of their own, as Atrium does since session 18.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ ok: true }));
app.get('/healthz', async () => ({ ok: true }));
app.post('/', async () => ({ ok: true }));

const stored = process.env.BASELINE_ARGON2_HASH;
if (stored) {
  const { verify } = await import('@node-rs/argon2');
  // The same turns as Atrium's (from dist/, built before any bench that sets this runs): on threads
  // of their own with BASELINE_HASH_THREADS, else on libuv's pool.
  const atOnce = Number(process.env.BASELINE_HASHES_AT_ONCE);
  const onThreads = process.env.BASELINE_HASH_THREADS ? (await import('../dist/auth/hash-threads.js')).hashThreads(atOnce) : undefined;
  const inTurn = onThreads
    ? (work) => work()
    : atOnce
      ? (await import('../dist/shared/taking-turns.js')).takingTurns(atOnce)
      : (work) => work();
  const verifyIt = onThreads ? (password) => onThreads({ op: 'verify', hashed: stored, password }).catch(() => false) : (password) => verify(stored, password);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/login/password', async (request, reply) => {
    const password = new URLSearchParams(request.body.toString('utf8')).get('password') ?? '';
    return (await inTurn(() => verifyIt(password))) ? reply.redirect('/start', 303) : reply.status(401).send('The username or password is not correct.');
  });
}

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
