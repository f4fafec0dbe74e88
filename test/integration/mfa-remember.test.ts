// Context-aware MFA's remembered browser against a pinned clock, on both databases: the signed token
// holds for `rememberDays` from the network it was issued on, and not a moment longer; a TOTP code
// is accepted one step either side of the clock and refused two steps away. Deleting a device, or
// resetting the user's MFA, ends every remembered browser.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { initialize } from '../../src/init.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { fixedClock } from '../../src/shared/clock.js';
import { systemContext } from '../../src/shared/context.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

describe.each(dialects())('remembered browsers and TOTP drift with a pinned clock on %s', (dialect) => {
  const clock = fixedClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  let reg: Registry;
  let dataDir: string;
  let user: { identityStoreId: string; userId: string; userName: string };
  const ctx = systemContext('signin.amazonaws.com', 'us-east-1', 'test');

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-mfa-clock-'));
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    reg = await createRegistry(loadConfig({ dataDir, databaseUrl, logLevel: 'silent' }, {}), { clock, log: createLogger('silent') });
    const init = await initialize(reg, { port: 8080 });
    const userId = await reg.directory.createUser(ctx, init.identityStoreId, { profile: { userName: 'tim', displayName: 'Tim', name: { givenName: 'T', familyName: 'M' } } });
    user = { identityStoreId: init.identityStoreId, userId, userName: 'tim' };
  });
  afterAll(async () => {
    await reg?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('remembers a browser for rememberDays on its network only', async () => {
    const token = await reg.mfa.rememberToken(user, '203.0.113.7');
    expect(await reg.mfa.isRemembered(token, user, '203.0.113.200', 30)).toBe(true);
    expect(await reg.mfa.isRemembered(token, user, '198.51.100.7', 30)).toBe(false);
    expect(await reg.mfa.isRemembered(token, { ...user, userId: 'someone-else' }, '203.0.113.7', 30)).toBe(false);
    clock.advance(29 * 86_400_000);
    expect(await reg.mfa.isRemembered(token, user, '203.0.113.7', 30)).toBe(true);
    clock.advance(86_400_000);
    expect(await reg.mfa.isRemembered(token, user, '203.0.113.7', 30)).toBe(false);
    const v6 = await reg.mfa.rememberToken(user, '2001:db8:1:2:aaaa::1');
    expect(await reg.mfa.isRemembered(v6, user, '2001:db8:1:2:bbbb::9', 30)).toBe(true);
    expect(await reg.mfa.isRemembered(v6, user, '2001:db8:1:3::1', 30)).toBe(false);
  });

  it('accepts a code one step either side of the clock, refuses two steps away, and refuses a used step', async () => {
    const enrolment = await reg.mfa.beginTotpEnrolment(user);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    const at = (steps: number) => totp.generate({ timestamp: clock.now() + steps * 30_000 });
    await reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: enrolment.enrolmentId, name: 'Phone', code: at(-1) });
    clock.advance(5 * 30_000);
    expect(await reg.mfa.verifyTotp(user, at(-2))).toMatchObject({ ok: false, code: 'mfa.wrong_code' });
    expect(await reg.mfa.verifyTotp(user, at(2))).toMatchObject({ ok: false, code: 'mfa.wrong_code' });
    const behind = await reg.mfa.verifyTotp(user, at(-1));
    expect(behind.ok).toBe(true);
    if (behind.ok) expect(await reg.tx.transaction((s) => behind.commit(s))).toBe(true);
    // The step before the one used, and the one used, are both refused now.
    expect(await reg.mfa.verifyTotp(user, at(-1))).toMatchObject({ ok: false, code: 'mfa.code_reused' });
    const ahead = await reg.mfa.verifyTotp(user, at(1));
    expect(ahead.ok).toBe(true);
    if (ahead.ok) expect(await reg.tx.transaction((s) => ahead.commit(s))).toBe(true);
    expect(await reg.mfa.verifyTotp(user, at(0))).toMatchObject({ ok: false, code: 'mfa.code_reused' });
  });

  it('forgets a remembered browser once a device it was remembered with is deleted, or the user MFA is reset', async () => {
    // A thief with the browser's cookie: the owner deletes the device they used there.
    const [phone] = await reg.mfa.listDevices(user);
    const stolen = await reg.mfa.rememberToken(user, '203.0.113.7');
    expect(await reg.mfa.isRemembered(stolen, user, '203.0.113.7', 30)).toBe(true);
    await reg.mfa.deleteDevice(ctx, user, phone!.deviceId);
    expect(await reg.mfa.isRemembered(stolen, user, '203.0.113.7', 30)).toBe(false);

    // A new device and a new remembered browser; then an administrator resets the user's MFA.
    const enrolment = await reg.mfa.beginTotpEnrolment(user);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: enrolment.enrolmentId, name: 'New phone', code: totp.generate({ timestamp: clock.now() }) });
    const fresh = await reg.mfa.rememberToken(user, '203.0.113.7');
    expect(await reg.mfa.isRemembered(fresh, user, '203.0.113.7', 30)).toBe(true);
    // Adding a device does not end it; the reset does.
    const other = await reg.mfa.beginTotpEnrolment(user);
    const otherTotp = new TOTP({ secret: Secret.fromBase32(other.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: other.enrolmentId, name: 'Tablet', code: otherTotp.generate({ timestamp: clock.now() }) });
    expect(await reg.mfa.isRemembered(fresh, user, '203.0.113.7', 30)).toBe(true);
    await reg.auth.resetUserMfa(ctx, 'tim');
    expect(await reg.mfa.isRemembered(fresh, user, '203.0.113.7', 30)).toBe(false);
  });
});
