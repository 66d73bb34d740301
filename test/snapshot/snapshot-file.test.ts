import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, SNAPSHOT_VERSION, writeSnapshot } from '../../src/signing/cache-snapshot.js';
import type { SnapshotEntry } from '../../src/signing/cache-snapshot.js';
import { md5Of, population, recordingLog, tempDir } from './support.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const HOUR = 3_600_000;

let dir: string;
let cleanup: () => Promise<void>;
let file: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'cache.snapshot');
});
afterEach(async () => {
  await cleanup();
});

describe('snapshot file', () => {
  it('round-trips verdicts, storage times and lifetimes', async () => {
    const entries: SnapshotEntry[] = [
      { md5: md5Of(1), storedAt: NOW - 5 * HOUR, ttlMs: 24 * HOUR, verdict: true },
      { md5: md5Of(2), storedAt: NOW - 10 * 60_000, ttlMs: HOUR, verdict: 'tool.exe' },
      // Characters the API refuses, and JSON-special ones, must still survive.
      { md5: md5Of(3), storedAt: NOW - 1, ttlMs: HOUR, verdict: 'we\tird\n"na\\me" é 漢字 🎉' },
      { md5: md5Of(4), storedAt: NOW, ttlMs: HOUR, verdict: '' },
      { md5: md5Of(5), storedAt: NOW, ttlMs: HOUR, verdict: 'naïve-ü.exe' },
      // Longer than the write buffer: written on its own.
      { md5: md5Of(6), storedAt: NOW, ttlMs: HOUR, verdict: 'x'.repeat(600_000) },
      { md5: md5Of(7), storedAt: 0, ttlMs: Number.MAX_SAFE_INTEGER, verdict: true },
    ];
    await writeSnapshot(file, entries);
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log)).toEqual(entries);
    expect(log.warnings).toEqual([]);
  });

  it('writes a versioned header and one line per entry', async () => {
    await writeSnapshot(file, [
      { md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: true },
      { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: 'git' },
    ]);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toEqual([
      `signet-cache-snapshot\t${SNAPSHOT_VERSION}\t2`,
      `${md5Of(1)}\t${NOW}\t${HOUR}\t1`,
      `${md5Of(2)}\t${NOW}\t${HOUR}\t0:"git"`,
      '',
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('skips entries past their lifetime plus the stale window', async () => {
    const entries: SnapshotEntry[] = [
      { md5: md5Of(1), storedAt: NOW - 2 * HOUR, ttlMs: HOUR, verdict: true }, // expired an hour ago
      { md5: md5Of(2), storedAt: NOW - 30 * 60_000, ttlMs: HOUR, verdict: 'a' }, // fresh
      { md5: md5Of(3), storedAt: NOW - 4 * HOUR, ttlMs: HOUR, verdict: 'b' }, // expired three hours ago
    ];
    await writeSnapshot(file, entries);
    const log = recordingLog();
    expect((await readSnapshot(file, NOW, log)).map((e) => e.md5)).toEqual([md5Of(2)]);
    expect((await readSnapshot(file, NOW, log, { staleWindowMs: 2 * HOUR })).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2)]);
    expect(log.warnings).toEqual([]);
  });

  it('refuses to write an entry it could not read back', async () => {
    for (const bad of [
      { md5: 'short', storedAt: NOW, ttlMs: HOUR, verdict: true as const },
      { md5: md5Of(1), storedAt: NOW + 0.5, ttlMs: HOUR, verdict: true as const },
      { md5: md5Of(1), storedAt: NOW, ttlMs: 0, verdict: true as const },
    ]) {
      await expect(writeSnapshot(file, [bad])).rejects.toThrow(TypeError);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('dates an entry from the future (clock went backwards) no later than now', async () => {
    await writeSnapshot(file, [{ md5: md5Of(1), storedAt: NOW + HOUR, ttlMs: HOUR, verdict: true }]);
    expect(await readSnapshot(file, NOW, recordingLog())).toEqual([{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: true }]);
  });

  it('an empty cache round-trips to an empty file without a warning', async () => {
    await writeSnapshot(file, []);
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log)).toEqual([]);
    expect(log.warnings).toEqual([]);
  });
});

describe('an unusable snapshot', () => {
  async function expectWarningAndEmpty(): Promise<Array<{ obj: object; msg: string }>> {
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log)).toEqual([]);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]!.obj).toMatchObject({ file });
    return log.warnings;
  }

  it('missing: warns and yields nothing', async () => {
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.msg).toMatch(/not found/);
  });

  it('a directory in its place: warns and yields nothing', async () => {
    file = dir;
    await expectWarningAndEmpty();
  });

  it('truncated mid-line (cut in half): warns and yields nothing', async () => {
    await writeSnapshot(file, population(1000, NOW));
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.obj).toMatchObject({ reason: expect.stringMatching(/truncated/) });
  });

  it('truncated exactly at a line boundary: the header count catches it', async () => {
    await writeSnapshot(file, population(10, NOW));
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    await writeFile(file, `${lines.slice(0, 6).join('\n')}\n`);
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.obj).toMatchObject({ reason: 'truncated: 5 of 10 entries' });
  });

  it('with lines appended: more entries than the header announced', async () => {
    await writeSnapshot(file, population(3, NOW));
    await writeFile(file, `${await readFile(file, 'utf8')}${md5Of(99)}\t${NOW}\t${HOUR}\t1\n`);
    await expectWarningAndEmpty();
  });

  it('empty: warns and yields nothing', async () => {
    await writeFile(file, '');
    await expectWarningAndEmpty();
  });

  it('garbage bytes: warns and yields nothing', async () => {
    await writeFile(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    await expectWarningAndEmpty();
  });

  it('garbage inside an otherwise valid file: warns and yields nothing', async () => {
    await writeSnapshot(file, population(100, NOW));
    const bytes = await readFile(file);
    bytes.fill(0xff, 2000, 2100);
    await writeFile(file, bytes);
    await expectWarningAndEmpty();
  });

  it('another version: warns and yields nothing', async () => {
    await writeSnapshot(file, population(3, NOW));
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(`signet-cache-snapshot\t${SNAPSHOT_VERSION}\t`, 'signet-cache-snapshot\t999\t'));
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.obj).toMatchObject({ reason: 'unsupported version 999' });
  });

  it('not a snapshot at all (JSON): warns and yields nothing', async () => {
    await writeFile(file, JSON.stringify({ entries: [] }));
    await expectWarningAndEmpty();
  });

  it.each([
    ['an invalid md5', `XYZ\t${NOW}\t${HOUR}\t1`],
    ['a missing field', `${md5Of(1)}\t${NOW}\t1`],
    ['a non-numeric time', `${md5Of(1)}\tyesterday\t${HOUR}\t1`],
    ['a zero lifetime', `${md5Of(1)}\t${NOW}\t0\t1`],
    ['an unknown verdict', `${md5Of(1)}\t${NOW}\t${HOUR}\t2`],
    ['an unquoted name', `${md5Of(1)}\t${NOW}\t${HOUR}\t0:git`],
    ['a badly escaped name', `${md5Of(1)}\t${NOW}\t${HOUR}\t0:"a\\qb"`],
    ['a name that is not a string', `${md5Of(1)}\t${NOW}\t${HOUR}\t0:"a" + "b"`],
    ['a raw control character in a name', `${md5Of(1)}\t${NOW}\t${HOUR}\t0:"a\u0001b"`],
    [
      'invalid UTF-8 in a name',
      Buffer.concat([Buffer.from(`${md5Of(1)}\t${NOW}\t${HOUR}\t0:"a`), Buffer.from([0xc3, 0x28]), Buffer.from('"')]),
    ],
    ['a 17-digit number', `${md5Of(1)}\t12345678901234567\t${HOUR}\t1`],
    ['an upper-case md5', `${md5Of(1).toUpperCase().replace(/0/g, 'A')}\t${NOW}\t${HOUR}\t1`],
  ])('%s: warns and yields nothing', async (_what, line) => {
    await writeFile(
      file,
      Buffer.concat([Buffer.from(`signet-cache-snapshot\t${SNAPSHOT_VERSION}\t1\n`), Buffer.from(line), Buffer.from('\n')]),
    );
    await expectWarningAndEmpty();
  });
});

describe('atomic write', () => {
  it('leaves no temporary file behind', async () => {
    await writeSnapshot(file, population(100, NOW));
    await writeSnapshot(file, population(50, NOW));
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
    expect(await readSnapshot(file, NOW, recordingLog(), { staleWindowMs: 1e12 })).toHaveLength(50);
  });

  it('cleans its temporary file up when the write fails', async () => {
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const target = join(dir, 'occupied');
    await writeSnapshot(join(target, 'inner'), []);
    await expect(writeSnapshot(target, population(10, NOW))).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['occupied']);
  });

  it('a reader sees the old or the new complete file, never a half-written one', async () => {
    const older = population(20_000, NOW, 1);
    const newer = population(30_000, NOW, 1);
    await writeSnapshot(file, older);
    const log = recordingLog();
    let writing = true;
    const counts = new Set<number>();
    const reader = (async () => {
      let reads = 0;
      while (writing || reads < 3) {
        counts.add((await readSnapshot(file, NOW, log)).length);
        reads++;
      }
    })();
    for (let i = 0; i < 5; i++) await writeSnapshot(file, i % 2 === 0 ? newer : older);
    writing = false;
    await reader;
    expect(log.warnings).toEqual([]);
    expect([...counts].every((n) => n === older.length || n === newer.length)).toBe(true);
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
  });

  it('concurrent writers each rename a complete file', async () => {
    await Promise.all([writeSnapshot(file, population(1000, NOW, 1)), writeSnapshot(file, population(2000, NOW, 1))]);
    const log = recordingLog();
    expect([1000, 2000]).toContain((await readSnapshot(file, NOW, log)).length);
    expect(log.warnings).toEqual([]);
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
  });
});
