/**
 * A malformed input line never stops `signet batch`: it gets an error line
 * in its own place (code INVALID_INPUT_LINE, with its line number), every
 * other line is still answered, blank lines are skipped, and the exit status
 * is 3 because not every line got a verdict. Items Signet itself refuses
 * (a 30-zero md5) get Signet's per-item error in their place the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, jsonLines, runCli, startCliStack } from './support.js';

let stack: CliStack;
beforeAll(async () => {
  stack = await startCliStack();
});
afterAll(() => stack.close());

const signed = JSON.stringify({ md5: samples.signed.md5, name: samples.signed.name });
const unsigned = JSON.stringify({ md5: samples.unsigned.md5, name: samples.unsigned.name });

function malformed(line: number, detail: RegExp | string) {
  return {
    md5: null,
    name: null,
    line,
    error: {
      status: 400,
      code: 'INVALID_INPUT_LINE',
      retryable: false,
      detail: typeof detail === 'string' ? `line ${line}: ${detail}` : expect.stringMatching(detail),
    },
  };
}

describe('malformed lines are answered in place', () => {
  it('JSON Lines: not JSON, not an object, over-long, blank; Signet refuses a bad md5 in place too', async () => {
    const input = [
      signed,
      '{"md5": "truncated',
      '',
      '["an", "array"]',
      JSON.stringify({ md5: '000000000000000000000000000000', name: 'explorer.exe' }),
      '   ',
      `{"md5":"${samples.unseen.md5}","name":"${'x'.repeat(20_000)}"}`,
      unsigned,
    ].join('\n');
    const run = await runCli(['batch'], { env: cliEnv(stack), stdin: input });
    expect(run.status).toBe(3);
    const results = jsonLines(run.stdout);
    expect(results).toMatchObject([
      { md5: samples.signed.md5, verdict: 'signed' },
      malformed(2, /^line 2: not JSON: /),
      malformed(4, /^line 4: not a JSON object/),
      { md5: '000000000000000000000000000000', name: 'explorer.exe', error: { status: 400, code: 'INVALID_REQUEST', field: 'md5' } },
      malformed(7, 'line is over 16384 characters; no hash and process name are that long'),
      { md5: samples.unsigned.md5, verdict: 'unsigned' },
    ]);
    expect(run.stderr).toContain('6 lines: 2 verdicts (1 signed, 1 unsigned, 0 unknown), 4 errors (3 malformed lines); 1 request');
  });

  it('CSV: a wrong number of fields and an unclosed quote spoil only their own line', async () => {
    const input = [
      'md5,name',
      `${samples.signed.md5},git`,
      `${samples.unseen.md5},a,b`,
      `"${samples.unseen.md5},dropper.exe`,
      'lonely',
      `${samples.unsigned.md5},nc`,
    ].join('\n');
    const run = await runCli(['batch', '-'], { env: cliEnv(stack), stdin: input });
    expect(run.status).toBe(3);
    expect(jsonLines(run.stdout)).toMatchObject([
      { md5: samples.signed.md5, verdict: 'signed' },
      malformed(3, 'expected 2 fields (md5,name or sha256,name), found 3'),
      malformed(4, 'not valid CSV: Quote Not Closed'),
      malformed(5, 'expected 2 fields (md5,name or sha256,name), found 1'),
      { md5: samples.unsigned.md5, verdict: 'unsigned' },
    ]);
  });

  it('an input of malformed lines only is answered without a request', async () => {
    const run = await runCli(['batch'], { env: cliEnv(stack), stdin: 'nope\n{"x":\n' });
    expect(run.status).toBe(3);
    expect(jsonLines(run.stdout)).toHaveLength(2);
    expect(run.stderr).toContain('0 requests');
  });

  it('an empty input: nothing to answer, exit 0', async () => {
    const run = await runCli(['batch'], { env: cliEnv(stack), stdin: '\n\n' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('the input holds no items');
  });

  it('a file that cannot be read: exit 3, nothing sent', async () => {
    const run = await runCli(['batch', '/nonexistent/alerts.jsonl'], { env: cliEnv(stack) });
    expect(run.status).toBe(3);
    expect(run.stderr).toBe('signet: cannot read /nonexistent/alerts.jsonl: ENOENT\n');
  });
});
