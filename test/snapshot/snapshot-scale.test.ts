import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, writeSnapshot } from '../../src/signing/cache-snapshot.js';
import { md5Of, population, recordingLog, tempDir } from './support.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

describe('a million entries', () => {
  it('round-trip through the file', { timeout: 60_000 }, async () => {
    const entries = population(1_000_000, NOW, 1);
    const file = join(dir, 'snapshot');
    const started = performance.now();
    await writeSnapshot(file, entries);
    const log = recordingLog();
    const back = await readSnapshot(file, NOW, log);
    const elapsedMs = performance.now() - started;
    // Count, not time, is asserted; the time is printed for the record.
    console.log(`1M-entry snapshot write+read: ${Math.round(elapsedMs)} ms`);
    expect(log.warnings).toEqual([]);
    expect(back).toHaveLength(1_000_000);
    expect(back[0]).toEqual(entries[0]);
    expect(back[999_999]).toEqual(entries[999_999]);
    expect(back[333_333]).toEqual({ md5: md5Of(333_333), storedAt: NOW - 666_667, ttlMs: 3_600_000, verdict: 'tool-333333.exe' });
  });
});
