// The access portal app (web/) built by Vite into dist/web, for browser tests: `npx vitest run` does
// not build first (npm test does), so a test builds it when web/ is newer than the build.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { WEB_ROOT } from '../../src/protocols/portal-ui/static-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const newestMtime = (dir: string): number =>
  Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => statSync(path.join(dir, name)).mtimeMs));

export async function ensureAppBuilt(): Promise<void> {
  const index = path.join(WEB_ROOT, 'index.html');
  const sources = Math.max(newestMtime(path.join(ROOT, 'web')), statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
}
