// The key-encryption key file: created only for a database that has sealed nothing yet; a missing
// or wrong key for a database that has stops the start with a clear message, never a silent new key.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('key file', () => {
  it('refuses to start with the key missing or replaced, and starts again once it is back', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-key-'));
    dirs.push(dataDir);
    const keyFile = path.join(dataDir, 'master.key');
    expect((await runCli(['init', '--data-dir', dataDir, '--json'])).code).toBe(0);

    renameSync(keyFile, `${keyFile}.bak`);
    const missing = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/key file .*master\.key is missing, but this database holds secrets sealed under it/);

    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const wrong = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot unwrap data key .*not the key file this database was sealed with/);

    renameSync(`${keyFile}.bak`, keyFile);
    const back = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(back.code).toBe(0);
  });
});
