import { readFile } from 'node:fs/promises';
import type * as os from 'node:os';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as littleEndian from '../../src/signing/cache-snapshot.js';
import { population, recordingLog, tempDir } from './support.js';

/**
 * The snapshot file is little-endian wherever it is written; on a big-endian
 * host the writer swaps its typed arrays' bytes before writing and the reader
 * swaps them back. No big-endian machine runs these tests, so the module is
 * loaded a second time believing it runs on one (node:os says "BE"). On this
 * little-endian host its typed arrays still hold little-endian bytes, so its
 * swaps show up as byte-reversed words: the file it writes must be this
 * host's file with exactly the numeric columns of the documented layout
 * reversed word by word (64-bit columns by 8 bytes, 32-bit ones by 4), and it
 * must read its own file back. A swap that missed a column, took one too
 * many, or used the wrong word size breaks one or the other.
 */

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  vi.doUnmock('node:os');
  vi.resetModules();
  await cleanup();
});

/** The snapshot module as a big-endian host loads it, with the population helper of the same module graph (its verdict classes). */
async function asIfBigEndian(): Promise<{ snapshot: typeof littleEndian; population: typeof population }> {
  vi.resetModules();
  vi.doMock('node:os', async (original) => ({ ...(await original<typeof os>()), endianness: () => 'BE' }));
  const snapshot = await import('../../src/signing/cache-snapshot.js');
  return { snapshot, population: (await import('./support.js')).population };
}

/** The body after the text line, and the numeric columns' extent from its u32 header (the layout in cache-snapshot.ts). */
function columnsOf(file: Buffer) {
  const body = file.subarray(file.indexOf(0x0a) + 1);
  const entries = body.readUInt32LE(0);
  const values = body.readUInt32LE(4);
  const header = 6 * 4;
  const wide = { from: header, to: header + 8 * (3 * entries + values) };
  const narrow = { from: wide.to, to: wide.to + 4 * (entries + 5 * values) };
  return { body, wide, narrow };
}

describe('cache snapshots on a big-endian host', () => {
  it.skipIf(endianness() !== 'LE')(
    'are written little-endian (numeric columns swapped word by word, nothing else) and read back',
    async () => {
      const entries = population(600, NOW);
      const hostFile = join(dir, 'host.snapshot');
      const bigFile = join(dir, 'big-endian.snapshot');
      await littleEndian.writeSnapshot(hostFile, entries, 'binary-record');
      const { snapshot: bigEndian, population: samePopulation } = await asIfBigEndian();
      await bigEndian.writeSnapshot(bigFile, samePopulation(600, NOW), 'binary-record');

      const host = columnsOf(await readFile(hostFile));
      const big = columnsOf(await readFile(bigFile));
      expect(big.body.length).toBe(host.body.length);
      expect(big.wide).toEqual(host.wide);
      const expected = Buffer.from(host.body);
      expected.subarray(host.wide.from, host.wide.to).swap64();
      expected.subarray(host.narrow.from, host.narrow.to).swap32();
      // All but the trailing CRC-32, which covers the bytes as written.
      const crc = big.body.length - 4;
      expect(big.body.subarray(0, crc).equals(expected.subarray(0, crc))).toBe(true);
      expect(big.body.subarray(0, crc).equals(host.body.subarray(0, crc))).toBe(false);

      const log = recordingLog();
      const read = await bigEndian.readSnapshot(bigFile, NOW, log);
      expect(log.warnings).toEqual([]);
      expect(read).toEqual(await littleEndian.readSnapshot(hostFile, NOW, recordingLog()));
      expect(read).toHaveLength(entries.length);
    },
  );
});
