/**
 * `signet batch` reads standard input as well as a file, and CSV as well as
 * JSON Lines (told apart by the first line, or by --format): a header line
 * is optional, quoted fields are read as RFC 4180 says, and over 1000 CSV
 * rows from stdin are chunked and answered in order like any input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { populationEntry } from '../../src/simulator/population.js';
import type { CliStack, Proxy } from './support.js';
import { cliEnv, jsonLines, populationItems, runCli, startCliStack, startProxy } from './support.js';

const N = 1500;
let stack: CliStack;
let proxy: Proxy;
let dir: string;

beforeAll(async () => {
  stack = await startCliStack({ simulator: { population: N } });
  proxy = await startProxy(stack.url);
  dir = mkdtempSync(join(tmpdir(), 'signet-cli-'));
});
afterAll(async () => {
  await proxy.close();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

function batchSizes(): number[] {
  const sizes = proxy.requests.filter((request) => request.method === 'POST').map((request) => request.items!);
  proxy.requests.length = 0;
  return sizes;
}

describe('signet batch reads stdin and CSV', () => {
  it(`${N} CSV rows with a header and quoted fields from stdin: 2 requests, answered in order`, async () => {
    const rows = populationItems(N).map(({ md5, name }, i) => (i % 2 === 0 ? `${md5},${name}` : `"${md5}", "${name}"`));
    const run = await runCli(['batch'], { env: cliEnv(proxy), stdin: ['md5,name', ...rows].join('\r\n') });
    expect(run.status).toBe(0);
    expect(batchSizes()).toEqual([1000, 500]);
    const results = jsonLines(run.stdout);
    expect(results).toHaveLength(N);
    for (const [i, result] of results.entries()) {
      expect(result).toMatchObject({ md5: populationEntry(i).md5, name: populationEntry(i).name, verdict: populationEntry(i).verdict });
    }
  });

  it('JSON Lines from stdin, with "-" or no file at all', async () => {
    const input = populationItems(1200)
      .map((item) => JSON.stringify(item))
      .join('\n');
    for (const args of [['batch', '-'], ['batch']]) {
      const run = await runCli(args, { env: cliEnv(proxy), stdin: input });
      expect(run.status).toBe(0);
      expect(batchSizes()).toEqual([1000, 200]);
      expect(jsonLines(run.stdout).map((result) => result.md5)).toEqual(populationItems(1200).map((item) => item.md5));
    }
  });

  it('CSV without a header, names with commas and doubled quotes, from a file', async () => {
    const file = join(dir, 'alerts.csv');
    writeFileSync(
      file,
      [`${samples.signed.md5},git`, `${samples.unseen.md5},"Tricky, ""quoted"" tool.exe"`, `${samples.unsigned.md5}, nc `].join('\n'),
    );
    const run = await runCli(['batch', file], { env: cliEnv(stack) });
    expect(run.status).toBe(0);
    expect(jsonLines(run.stdout)).toMatchObject([
      { md5: samples.signed.md5, name: 'git', verdict: 'signed' },
      { md5: samples.unseen.md5, name: 'Tricky, "quoted" tool.exe', verdict: 'unknown' },
      { md5: samples.unsigned.md5, name: 'nc', verdict: 'unsigned' },
    ]);
  });

  it('a sha256 column (named by the header, or 64 digits without one) is sent as sha256; EDR answers its per-item error in place', async () => {
    const sha256 = 'a'.repeat(64);
    const refused = { sha256, name: 'x.exe', error: { status: 400, code: 'INVALID_REQUEST', field: 'sha256', retryable: false } };
    for (const input of [`sha256,name\n${sha256},x.exe`, `name,sha256\nx.exe,${sha256}`]) {
      const run = await runCli(['batch'], { env: cliEnv(stack), stdin: input });
      expect(run.status).toBe(3);
      expect(jsonLines(run.stdout)).toMatchObject([refused]);
    }
    const mixed = await runCli(['batch'], { env: cliEnv(stack), stdin: `${sha256},x.exe\n${samples.signed.md5},git\n` });
    expect(mixed.status).toBe(3);
    expect(jsonLines(mixed.stdout)).toMatchObject([refused, { md5: samples.signed.md5, verdict: 'signed' }]);
  });

  it('--format overrides the detection', async () => {
    const asCsv = await runCli(['batch', '--format', 'csv'], {
      env: cliEnv(stack),
      stdin: `{"md5":"${samples.signed.md5}","name":"git"}\n`,
    });
    expect(asCsv.status).toBe(3);
    expect(jsonLines(asCsv.stdout)).toMatchObject([
      { line: 1, error: { code: 'INVALID_INPUT_LINE', detail: 'line 1: not valid CSV: Invalid Opening Quote' } },
    ]);
    const asJsonl = await runCli(['batch', '--format', 'jsonl'], { env: cliEnv(stack), stdin: `${samples.signed.md5},git\n` });
    expect(asJsonl.status).toBe(3);
    expect(jsonLines(asJsonl.stdout)).toMatchObject([
      { line: 1, error: { code: 'INVALID_INPUT_LINE', detail: expect.stringMatching(/^line 1: not JSON: /) } },
    ]);
    const refused = await runCli(['batch', '--format', 'xml'], { env: cliEnv(stack), stdin: '' });
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/Allowed choices are jsonl, csv/);
  });
});
