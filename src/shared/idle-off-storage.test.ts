import { describe, expect, it } from 'vitest';
import { IdleOffStorage } from './idle-off-storage.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('IdleOffStorage', () => {
  it('carries each run’s value across its awaits, apart from runs in flight beside it, and nothing once they end', async () => {
    const s = new IdleOffStorage<string>();
    const seen: (string | undefined)[] = [];
    const a = s.run('a', async () => {
      await tick();
      seen.push(s.getStore());
      await s.run('inner', async () => {
        await tick();
        seen.push(s.getStore());
      });
      seen.push(s.getStore());
      return 'A';
    });
    const b = s.run('b', async () => {
      await tick();
      seen.push(s.getStore());
      return 'B';
    });
    expect(s.getStore()).toBeUndefined();
    expect(await Promise.all([a, b])).toEqual(['A', 'B']);
    expect(seen.sort()).toEqual(['a', 'a', 'b', 'inner']);
    expect(s.getStore()).toBeUndefined();
    // Enabled again by the next run.
    expect(await s.run('again', async () => (await tick(), s.getStore()))).toBe('again');
  });

  it('ends its run when the function throws or rejects', async () => {
    const s = new IdleOffStorage<number>();
    await expect(s.run(1, () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(
      s.run(2, () => {
        throw new Error('thrown');
      }),
    ).rejects.toThrow('thrown');
    expect(s.getStore()).toBeUndefined();
    expect(await s.run(3, () => Promise.resolve(s.getStore()))).toBe(3);
  });
});
