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
  const sources = Math.max(newestMtime(path.join(ROOT, 'web')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs);
  if (existsSync(index) && existsSync(path.join(WEB_ROOT, 'console.html')) && statSync(index).mtimeMs >= sources) return;
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
}
