// The built access portal (dist/web, from web/ by Vite), held in memory: hashed assets with
// long-lived cache headers, and the one HTML page that every /start path answers with.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** Where `vite build` writes; the same from src/ (tests) and from dist/ (the installed server). */
export const WEB_ROOT = path.resolve(import.meta.dirname, '../../../dist/web');

export interface StaticFile {
  body: Buffer;
  /** The gzip encoding of text files, when it saves anything. */
  gzip?: Buffer;
  type: string;
  /** Vite names assets by content hash, so a browser may keep them for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** Every file of the build keyed by its path under the mount (`assets/index-abc.js`), or undefined if it was never built. */
export function loadBuild(root = WEB_ROOT): Map<string, StaticFile> | undefined {
  let names: string[];
  try {
    names = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const files = new Map<string, StaticFile>();
  for (const name of names) {
    const ext = path.extname(name);
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(path.join(root, name));
    const gzip = COMPRESSIBLE.has(ext) ? gzipSync(body, { level: 9 }) : undefined;
    const key = name.split(path.sep).join('/');
    files.set(key, { body, type, immutable: key.startsWith('assets/'), ...(gzip && gzip.length < body.length ? { gzip } : {}) });
  }
  return files.has('index.html') ? files : undefined;
}
