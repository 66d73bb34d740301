/**
 * `signet batch` on more items than one request takes: the input is sent in
 * chunks of at most 1000 (or --chunk-size) items, one request after the
 * other, and the output has one line per input line in input order, each the
 * verdict Signet gave that binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { populationEntry } from '../../src/simulator/population.js';
import type { CliStack, Proxy } from './support.js';
import { cliEnv, jsonLines, populationItems, runCli, startCliStack, startProxy } from './support.js';

const N = 2500;
let stack: CliStack;
let proxy: Proxy;
let dir: string;
let file: string;

beforeAll(async () => {
  stack = await startCliStack({ simulator: { population: N } });
  proxy = await startProxy(stack.url);
  dir = mkdtempSync(join(tmpdir(), 'signet-cli-'));
  file = join(dir, 'alerts.jsonl');
  writeFileSync(
    file,
    populationItems(N)
      .map((item) => JSON.stringify(item))
      .join('\n') + '\n',
  );
});
afterAll(async () => {
  await proxy.close();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  proxy.requests.length = 0;
});

function batchSizes(): number[] {
  return proxy.requests.filter((request) => request.method === 'POST').map((request) => request.items!);
}

function expectInOrderVerdicts(stdout: string) {
  const results = jsonLines(stdout);
  expect(results).toHaveLength(N);
  for (const [i, result] of results.entries()) {
    const entry = populationEntry(i);
    expect(result, `line ${i + 1}`).toMatchObject({ md5: entry.md5, name: entry.name, verdict: entry.verdict });
  }
}

describe('signet batch sends chunks and keeps the input order', () => {
  it(`${N} JSON Lines from a file: requests of 1000, 1000 and 500 items, every line answered in order, exit 0`, async () => {
    const run = await runCli(['batch', file], { env: cliEnv(proxy) });
    expect(run.stderr).toMatch(/2500 lines: 2500 verdicts \(\d+ signed, \d+ unsigned, 0 unknown\), 0 errors; 3 requests/);
    expect(run.status).toBe(0);
    expect(batchSizes()).toEqual([1000, 1000, 500]);
    expect(proxy.requests.every((request) => request.path === '/v1/signatures/batch')).toBe(true);
    expectInOrderVerdicts(run.stdout);
  });

  it('--chunk-size sets the items per request', async () => {
    const run = await runCli(['batch', '--chunk-size', '600', file], { env: cliEnv(proxy) });
    expect(run.status).toBe(0);
    expect(batchSizes()).toEqual([600, 600, 600, 600, 100]);
    expectInOrderVerdicts(run.stdout);
  });

  it('refuses a chunk size over 1000 before sending anything', async () => {
    const run = await runCli(['batch', '--chunk-size', '1001', file], { env: cliEnv(proxy) });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/--chunk-size <n>.*from 1 to 1000/);
    expect(proxy.requests).toEqual([]);
  });

  it('--progress draws the bar on a stderr that is not a terminal; without it, only the summary', async () => {
    const withBar = await runCli(['batch', '--progress', file], { env: cliEnv(proxy) });
    expect(withBar.status).toBe(0);
    expect(withBar.stderr).toContain(`${N}/${N} lines`);
    expect(withBar.stderr).toContain('100%');
    const plain = await runCli(['batch', file], { env: cliEnv(proxy) });
    expect(plain.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
