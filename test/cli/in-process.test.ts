/**
 * The commands run in this process through `runCli`, what main.ts calls, with
 * the same expectations as the child-process tests beside this file: the
 * child processes show the real command, and this file lets coverage (which
 * sees only this process) measure the code they run. Real service, loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack, Proxy } from './support.js';
import { cliEnv, jsonLines, KEY, runInProcess, sendProblem, startCliStack, startProxy } from './support.js';

let stack: CliStack;
let down: Proxy;
beforeAll(async () => {
  stack = await startCliStack({ env: { CB_RETRIES: '0' } });
  down = await startProxy(stack.url, (request, response) =>
    request.path === '/readyz' || request.method === 'POST' ? sendProblem(response, 503, 'UPSTREAM_DISPOSED', true, 0) : false,
  );
});
afterAll(async () => {
  await down.close();
  await stack.close();
});

describe('lookup', () => {
  it.each([
    ['git', samples.signed, 0, 'signed'],
    ['nc', samples.unsigned, 1, 'unsigned'],
    ['an unseen binary', samples.unseen, 2, 'unknown'],
    ['chrome.exe, signed as Google Chrome', samples.nameDiffers, 0, 'signed'],
  ] as const)('%s exits %i', async (_name, sample, status, verdict) => {
    const run = await runInProcess(['lookup', sample.md5, '--name', sample.name], { env: cliEnv(stack) });
    expect(run.status).toBe(status);
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict });
    expect(run.stderr).toMatch(new RegExp(`^signet: ${verdict}: `));
  });

  it('errors exit 3 with one line, and no key', async () => {
    const bad = await runInProcess(['lookup', 'xyz', '--name', 'git'], { env: cliEnv(stack) });
    expect(bad).toMatchObject({ status: 3, stdout: '' });
    expect(bad.stderr).toMatch(/^signet: lookup failed: 400 INVALID_REQUEST \(not retryable\)/);
    const wrong = await runInProcess(['lookup', samples.signed.md5, '--name', 'git', '--api-key', 'not-the-key-1234567890'], {
      env: { SIGNET_URL: stack.url },
    });
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toMatch(/401 UNAUTHORIZED/);
    expect(wrong.stderr).not.toContain('not-the-key-1234567890');
  });

  it('a timeout exits 3 with SIGNET_TIMEOUT', async () => {
    stack.simulator.simulator.setFaults({ hangRate: 1 });
    try {
      const run = await runInProcess(['lookup', samples.microsoftDriver.md5, '--name', 'x', '--timeout', '200'], { env: cliEnv(stack) });
      expect(run.status).toBe(3);
      expect(run.stderr).toMatch(/SIGNET_TIMEOUT \(retryable\)/);
    } finally {
      stack.simulator.simulator.clearFaults();
    }
  });
});

describe('batch', () => {
  it('answers every line in order, malformed ones in place', async () => {
    const input = ['md5,name', `${samples.signed.md5},git`, 'a,b,c', `${samples.unsigned.md5},nc`].join('\n');
    const run = await runInProcess(['batch', '--chunk-size', '1'], { env: cliEnv(stack), stdin: input });
    expect(run.status).toBe(3);
    expect(jsonLines(run.stdout)).toMatchObject([
      { verdict: 'signed' },
      { line: 3, error: { code: 'INVALID_INPUT_LINE' } },
      { verdict: 'unsigned' },
    ]);
    expect(run.stderr).toContain('3 lines: 2 verdicts (1 signed, 1 unsigned, 0 unknown), 1 error (1 malformed line); 2 requests');
  });

  it('retries a failing request, then stops and says why', async () => {
    const run = await runInProcess(['batch', '--retries', '1', '--progress'], { env: cliEnv(down), stdin: `${samples.signed.md5},git\n` });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('retry 1 of 1 in 0 s');
    expect(run.stderr).toContain('signet: batch stopped: 503 UPSTREAM_DISPOSED (retryable, Retry-After 0 s)');
    expect(jsonLines(run.stdout)).toMatchObject([{ md5: samples.signed.md5, name: 'git', error: { code: 'UPSTREAM_DISPOSED' } }]);
  });

  it('an unreadable file, an empty input', async () => {
    expect(await runInProcess(['batch', '/nonexistent'], { env: cliEnv(stack) })).toMatchObject({
      status: 3,
      stderr: 'signet: cannot read /nonexistent: ENOENT\n',
    });
    expect(await runInProcess(['batch'], { env: cliEnv(stack), stdin: '' })).toMatchObject({
      status: 0,
      stderr: 'signet: the input holds no items\n',
    });
  });
});

describe('health', () => {
  it('ready: 0; not ready: 3; unreachable: 3', async () => {
    const ready = await runInProcess(['health'], { env: cliEnv(stack) });
    expect(ready.status).toBe(0);
    expect(ready.stderr).toMatch(/^signet: ready \(Carbon Black breaker closed, \d+ in flight, \d+ queued\)\n$/);
    const notReady = await runInProcess(['health', '--json'], { env: cliEnv(down) });
    expect(notReady.status).toBe(3);
    expect(notReady.stderr).toContain('signet: not ready: /readyz answered 503');
    const unreachable = await runInProcess(['health'], { env: cliEnv({ url: 'http://127.0.0.1:9' }) });
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/^signet: not live: SIGNET_UNREACHABLE/);
  });
});

describe('arguments', () => {
  it.each([
    [['lookup', samples.signed.md5]],
    [['--url', 'ftp://x', 'health']],
    [['--url', 'http://u:p@127.0.0.1', 'health']],
    [['--url', 'http://127.0.0.1/?q=1', 'health']],
    [['--url', 'nope', 'health']],
    [['batch', '--retries', '11']],
    [[]],
  ])('%j exits 3', async (args) => {
    const run = await runInProcess(args, { env: cliEnv(stack) });
    expect(run.status).toBe(3);
    expect(run.stderr).not.toBe('');
  });

  it('a key that cannot be a header is refused without being echoed', async () => {
    const run = await runInProcess(['health', '--api-key', 'two words'], { env: { SIGNET_URL: stack.url } });
    expect(run).toMatchObject({ status: 3 });
    expect(run.stderr).toContain('--api-key must be printable ASCII without spaces');
    expect(run.stderr).not.toContain('two words');
  });

  it('an empty SIGNET_API_KEY counts as none', async () => {
    const run = await runInProcess(['lookup', samples.signed.md5, '--name', 'git'], { env: cliEnv(stack, { SIGNET_API_KEY: '' }) });
    expect(run.stderr).toMatch(/401 UNAUTHORIZED/);
  });

  it('--help and --version exit 0; help shows no key', async () => {
    const help = await runInProcess(['batch', '--help'], { env: cliEnv(stack) });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('INVALID_INPUT_LINE');
    expect(help.stdout).not.toContain(KEY);
    expect((await runInProcess(['--version'])).status).toBe(0);
  });
});
