import { expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, retryLines, runClient, useBatchFile, useLiveSignet } from './support.js';

const signet = useLiveSignet();
const batchFile = useBatchFile();

describePython('examples/python: a batch file', () => {
  it('`batch <file.jsonl>` prints one JSON line per item, in file order, and exits 0 when every item has a verdict', async () => {
    const { env } = signet();
    const file = batchFile([
      { md5: samples.signed.md5, name: samples.signed.name },
      { md5: samples.unsigned.md5, name: samples.unsigned.name },
      { md5: samples.unseen.md5, name: samples.unseen.name },
      { md5: samples.powershell.md5, name: samples.powershell.name },
    ]);
    const run = await runClient(['batch', file], env);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const results = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results.map((result) => [result.md5, result.verdict])).toEqual([
      [samples.signed.md5, 'signed'],
      [samples.unsigned.md5, 'unsigned'],
      [samples.unseen.md5, 'unknown'],
      [samples.powershell.md5, 'signed'],
    ]);
  });

  it("keeps a malformed item's error in its place (never a verdict), does not retry it, and exits 1", async () => {
    const { env } = signet();
    // Carbon Black's 30-zero parent_md5 is not an md5.
    const file = batchFile([
      { md5: samples.signed.md5, name: samples.signed.name },
      { md5: '000000000000000000000000000000', name: 'explorer.exe' },
    ]);
    const run = await runClient(['batch', file], env);

    expect(run.code).toBe(1);
    const [verdict, invalid] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(verdict).toMatchObject({ md5: samples.signed.md5, verdict: 'signed' });
    expect(invalid).toMatchObject({
      md5: '000000000000000000000000000000',
      name: 'explorer.exe',
      error: { status: 400, code: 'INVALID_REQUEST', field: 'md5', retryable: false },
    });
    expect(invalid).not.toHaveProperty('verdict');
    expect(retryLines(run)).toEqual([]);
    expect(run.stderr).toContain('1 of 2 items have no verdict');
  });

  it('refuses a file that is not JSON Lines with exit 2, before asking Signet anything', async () => {
    const { env, stack } = signet();
    const before = stack.upstreamRequests();
    const file = batchFile(['not an object']);
    const run = await runClient(['batch', file], env);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/:1: expected an object/);
    expect(stack.upstreamRequests()).toBe(before);
  });
});
