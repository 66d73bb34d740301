/**
 * What the client does for a person at a terminal: an indented answer on a
 * terminal stdout (one line with --json), the progress bar drawn by itself
 * when stderr is a terminal and the input takes more than one request (not
 * for a small input, never with --no-progress), and a hint when it waits for
 * items typed on a terminal stdin. Run in process, with streams that say
 * they are terminals, against the real service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, jsonLines, populationItems, runInProcess, startCliStack } from './support.js';

let stack: CliStack;
beforeAll(async () => {
  stack = await startCliStack({ simulator: { population: 1200 } });
});
afterAll(() => stack.close());

const many = populationItems(1200)
  .map((item) => JSON.stringify(item))
  .join('\n');

describe('on a terminal', () => {
  it('lookup indents the answer; --json keeps it on one line', async () => {
    const pretty = await runInProcess(['lookup', samples.signed.md5, '--name', 'git'], { env: cliEnv(stack), tty: { stdout: true } });
    expect(pretty.status).toBe(0);
    expect(pretty.stdout).toMatch(/^\{\n {2}"md5": "82a7bf2b1f51f1988be571b8176aa545",\n/);
    const oneLine = await runInProcess(['lookup', samples.signed.md5, '--name', 'git', '--json'], {
      env: cliEnv(stack),
      tty: { stdout: true },
    });
    expect(oneLine.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('batch draws the progress bar on a terminal stderr when the input takes more than one request', async () => {
    const run = await runInProcess(['batch'], { env: cliEnv(stack), stdin: many, tty: { stderr: true } });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('1200/1200 lines');
    expect(jsonLines(run.stdout)).toHaveLength(1200);
  });

  it('not for an input of one request, and never with --no-progress', async () => {
    const small = await runInProcess(['batch'], {
      env: cliEnv(stack),
      stdin: many.split('\n').slice(0, 10).join('\n'),
      tty: { stderr: true },
    });
    expect(small.stderr).not.toContain('lines |');
    const off = await runInProcess(['batch', '--no-progress'], { env: cliEnv(stack), stdin: many, tty: { stderr: true } });
    expect(off.stderr).not.toContain('lines |');
    expect(off.stderr).toMatch(/^signet: 1200 lines: 1200 verdicts/);
  });

  it('batch says it reads a terminal stdin, and how to end it', async () => {
    const run = await runInProcess(['batch'], { env: cliEnv(stack), stdin: `${samples.signed.md5},git\n`, tty: { stdin: true } });
    expect(run.stderr).toMatch(/^signet: reading items from standard input; end with Ctrl-D\n/);
    expect(run.status).toBe(0);
  });
});
