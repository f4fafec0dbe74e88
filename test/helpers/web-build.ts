// The web bundle (portal and console) for browser tests: built when web/ is newer than the build.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { WEB_ROOT } from '../../src/protocols/portal-ui/static-app.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** Screenshots and other outputs of browser tests (gitignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const newestMtime = (dir: string): number =>
  Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => statSync(path.join(dir, name)).mtimeMs));

/** `npx vitest run` does not build first (npm test does): build the app when web/ is newer than the build. */
export async function ensureAppBuilt(): Promise<void> {
  const index = path.join(WEB_ROOT, 'index.html');
  // (This file too: a build an older version of it made, React's development build, is made again.)
  const sources = Math.max(newestMtime(path.join(ROOT, 'web')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs, statSync(import.meta.filename).mtimeMs);
  if (existsSync(index) && existsSync(path.join(WEB_ROOT, 'console.html')) && statSync(index).mtimeMs >= sources) return;
  // The build `npm run build` makes: React's production build. Vitest sets NODE_ENV=test, and Vite
  // builds for the NODE_ENV it finds: React's development build, whose StrictMode runs every effect
  // twice (each request of a page's first load was made twice, as no user's browser makes them).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}
