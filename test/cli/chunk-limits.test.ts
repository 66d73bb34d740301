/**
 * How items are split into requests: contiguous runs of at most the chunk
 * size, and never a body over Signet's 1 MiB limit, whatever the items hold.
 */
import { describe, expect, it } from 'vitest';
import { chunkItems, MAX_CHUNK_BYTES } from '../../src/cli/batch-chunks.js';

const item = (index: number, name = `proc-${index}.exe`) => ({ index, item: { md5: index.toString(16).padStart(32, '0'), name } });

describe('chunkItems', () => {
  it('cuts every chunkSize items, in order, with the rest in the last chunk', () => {
    const chunks = chunkItems(
      Array.from({ length: 2500 }, (_, i) => item(i)),
      1000,
    );
    expect(chunks.map((chunk) => chunk.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flat().map(({ index }) => index)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  it('cuts earlier when the body would pass the byte limit', () => {
    const big = Array.from({ length: 1000 }, (_, i) => item(i, 'n'.repeat(16_000)));
    const chunks = chunkItems(big, 1000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(Buffer.byteLength(JSON.stringify({ items: chunk.map(({ item }) => item) }))).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    }
    expect(chunks.flat()).toHaveLength(1000);
  });

  it('fills a chunk up to exactly the byte limit', () => {
    const one = Buffer.byteLength(JSON.stringify(item(0).item));
    const envelope = Buffer.byteLength('{"items":[]}');
    // Room for exactly three items and their two commas.
    const chunks = chunkItems(
      [item(0), item(1), item(2), item(3)].map((entry) => ({ ...entry, item: { ...entry.item, name: 'proc-0.exe' } })),
      1000,
      envelope + 3 * one + 2,
    );
    expect(chunks.map((chunk) => chunk.length)).toEqual([3, 1]);
  });

  it('no items, no chunks', () => {
    expect(chunkItems([], 1000)).toEqual([]);
  });
});
