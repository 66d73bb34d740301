/**
 * How batch input lines become items or malformed entries, in process: the
 * format detection, JSON Lines, CSV with and without a header, and the line
 * numbers the error lines report.
 */
import { describe, expect, it } from 'vitest';
import { detectFormat, MAX_LINE_CHARS, parseInput } from '../../src/cli/batch-input.js';

const md5 = '82a7bf2b1f51f1988be571b8176aa545';
const sha256 = 'ab'.repeat(32);

describe('format detection', () => {
  it('JSON Lines when the first non-blank line opens an object, CSV otherwise', () => {
    expect(detectFormat(`\n\n  {"md5":"${md5}","name":"git"}`)).toBe('jsonl');
    expect(detectFormat(`\uFEFF{"md5":"${md5}","name":"git"}`)).toBe('jsonl');
    expect(detectFormat(`md5,name\n${md5},git`)).toBe('csv');
    expect(detectFormat(`${md5},git`)).toBe('csv');
    expect(detectFormat('')).toBe('csv');
  });
});

describe('JSON Lines', () => {
  it('any object is an item, sent as it is; blank lines are skipped; line numbers count every line', () => {
    const { format, entries } = parseInput(
      `{"md5":"${md5}","name":"git"}\r\n\r\n{"sha256":"${sha256}","name":"x","extra":1}\n[1]\n"text"\n{bad\n`,
    );
    expect(format).toBe('jsonl');
    expect(entries).toEqual([
      { kind: 'item', line: 1, item: { md5, name: 'git' } },
      { kind: 'item', line: 3, item: { sha256, name: 'x', extra: 1 } },
      { kind: 'malformed', line: 4, detail: expect.stringMatching(/^not a JSON object/) },
      { kind: 'malformed', line: 5, detail: expect.stringMatching(/^not a JSON object/) },
      { kind: 'malformed', line: 6, detail: expect.stringMatching(/^not JSON: /) },
    ]);
  });

  it('a line over the limit is malformed without being parsed', () => {
    const { entries } = parseInput(`{"md5":"${md5}","name":"${'n'.repeat(MAX_LINE_CHARS)}"}`, 'jsonl');
    expect(entries).toEqual([{ kind: 'malformed', line: 1, detail: expect.stringContaining(`over ${MAX_LINE_CHARS} characters`) }]);
  });
});

describe('CSV', () => {
  it('without a header: the hash kind from its length, anything else sent as an md5 for Signet to judge', () => {
    const { entries } = parseInput(`${md5},git\n${sha256},x.exe\nnot-a-hash,y\n`);
    expect(entries.map((entry) => entry.kind === 'item' && entry.item)).toEqual([
      { md5, name: 'git' },
      { sha256, name: 'x.exe' },
      { md5: 'not-a-hash', name: 'y' },
    ]);
  });

  it('a header names the columns, in either order and any case, and is not an item', () => {
    expect(parseInput(`MD5,Name\n${md5},git`).entries).toEqual([{ kind: 'item', line: 2, item: { md5, name: 'git' } }]);
    expect(parseInput(`name,sha256\nx.exe,${sha256}`).entries).toEqual([{ kind: 'item', line: 2, item: { sha256, name: 'x.exe' } }]);
    // Only the first line can be a header.
    expect(parseInput(`${md5},git\nmd5,name`).entries[1]).toEqual({ kind: 'item', line: 2, item: { md5: 'md5', name: 'name' } });
  });

  it('quoted fields: commas, doubled quotes, spaces around fields', () => {
    const { entries } = parseInput(`"${md5}" , "a, ""b"" c.exe"\n${md5}, spaced.exe `);
    expect(entries.map((entry) => entry.kind === 'item' && entry.item)).toEqual([
      { md5, name: 'a, "b" c.exe' },
      { md5, name: 'spaced.exe' },
    ]);
  });

  it('a bad line spoils only itself: field counts, quotes, a header-like line with a third column', () => {
    const { entries } = parseInput(`md5,name,host\n${md5}\n"${md5},git\n${md5},"git\n${md5},git`);
    expect(entries).toEqual([
      { kind: 'malformed', line: 1, detail: 'expected 2 fields (md5,name or sha256,name), found 3' },
      { kind: 'malformed', line: 2, detail: 'expected 2 fields (md5,name or sha256,name), found 1' },
      { kind: 'malformed', line: 3, detail: 'not valid CSV: Quote Not Closed' },
      { kind: 'malformed', line: 4, detail: expect.stringMatching(/^not valid CSV: /) },
      { kind: 'item', line: 5, item: { md5, name: 'git' } },
    ]);
  });
});
