/**
 * `signet lookup` without a verdict: every failure exits 3 (never a verdict's
 * status) with one line on stderr naming the status, the code and whether a
 * retry may help, and nothing on stdout; the key never appears, even when
 * the service refuses it.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, KEY, runCli, startCliStack } from './support.js';

let stack: CliStack;
beforeAll(async () => {
  stack = await startCliStack();
});
afterAll(() => stack.close());

function expectOneProblemLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('signet lookup failures exit 3 with a one-line problem', () => {
  it('a malformed hash: 400 INVALID_REQUEST, not retryable', async () => {
    const run = await runCli(['lookup', '000000000000000000000000000000', '--name', 'explorer.exe'], { env: cliEnv(stack) });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    expectOneProblemLine(run.stderr, /^signet: lookup failed: 400 INVALID_REQUEST \(not retryable\): .*"hash"/);
  });

  it('a wrong key: 401 UNAUTHORIZED, and neither output holds the key', async () => {
    const wrong = 'wrong-key-5d1e0c8b7a964f23';
    const run = await runCli(['lookup', samples.signed.md5, '--name', 'git'], { env: cliEnv(stack, { SIGNET_API_KEY: wrong }) });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    expectOneProblemLine(run.stderr, /^signet: lookup failed: 401 UNAUTHORIZED \(not retryable\): /);
    expect(run.stderr).not.toContain(wrong);
    const viaOption = await runCli(['lookup', samples.signed.md5, '--name', 'git', '--api-key', wrong], { env: { SIGNET_URL: stack.url } });
    expect(viaOption.status).toBe(3);
    expect(viaOption.stderr + viaOption.stdout).not.toContain(wrong);
  });

  it('no key at all: 401', async () => {
    const run = await runCli(['lookup', samples.signed.md5, '--name', 'git'], { env: { SIGNET_URL: stack.url } });
    expect(run.status).toBe(3);
    expectOneProblemLine(run.stderr, /401 UNAUTHORIZED/);
  });

  it('nothing listening: SIGNET_UNREACHABLE, retryable', async () => {
    const run = await runCli(['lookup', samples.signed.md5, '--name', 'git'], {
      env: cliEnv({ url: `http://127.0.0.1:${await closedPort()}` }),
    });
    expect(run.status).toBe(3);
    expectOneProblemLine(run.stderr, /^signet: lookup failed: SIGNET_UNREACHABLE \(retryable\): .*ECONNREFUSED/);
  });

  it('no answer within --timeout: SIGNET_TIMEOUT, retryable', async () => {
    stack.simulator.simulator.setFaults({ hangRate: 1 });
    try {
      const started = Date.now();
      const run = await runCli(['lookup', samples.expired.md5, '--name', samples.expired.name, '--timeout', '300'], { env: cliEnv(stack) });
      expect(run.status).toBe(3);
      expectOneProblemLine(run.stderr, /^signet: lookup failed: SIGNET_TIMEOUT \(retryable\): .* within 300 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      stack.simulator.simulator.clearFaults();
    }
  });

  it('a key that is not printable ASCII is refused before anything is sent, without echoing it', async () => {
    const run = await runCli(['lookup', samples.signed.md5, '--name', 'git'], { env: cliEnv(stack, { SIGNET_API_KEY: 'has a space' }) });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('SIGNET_API_KEY must be printable ASCII without spaces');
    expect(run.stderr).not.toContain('has a space');
  });
});

describe('bad arguments exit 3, help exits 0', () => {
  it.each([
    ['no --name', ['lookup', samples.signed.md5], /required option '--name <name>'/],
    ['no hash', ['lookup', '--name', 'git'], /missing required argument 'hash'/],
    ['an unknown command', ['verify', samples.signed.md5], /unknown command 'verify'/],
    ['an unknown option', ['lookup', samples.signed.md5, '--name', 'git', '--colour'], /unknown option '--colour'/],
    ['a timeout that is not a number', ['--timeout', 'soon', 'health'], /--timeout <ms>.*whole number/],
    ['a URL that is not http', ['--url', 'ftp://127.0.0.1', 'health'], /--url must be an http:\/\/ or https:\/\/ URL/],
    ['a URL with credentials', ['--url', 'http://user:secret@127.0.0.1', 'health'], /--url must not carry credentials/],
  ])('%s', async (_case, args, message) => {
    const run = await runCli(args, { env: cliEnv(stack) });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('a bad SIGNET_URL is named as such', async () => {
    const run = await runCli(['health'], { env: { SIGNET_URL: 'not a url' } });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('SIGNET_URL is not a URL');
  });

  it('--help documents the exit statuses and the environment, and shows no key', async () => {
    const run = await runCli(['--help'], { env: cliEnv(stack) });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('lookup  0 signed, 1 unsigned, 2 unknown');
    expect(run.stdout).toContain('batch   0 every item got a verdict');
    expect(run.stdout).toContain('health  0 live and ready; 3 otherwise');
    expect(run.stdout).toContain('SIGNET_API_KEY');
    expect(run.stdout).not.toContain(KEY);
    const lookupHelp = await runCli(['lookup', '--help']);
    expect(lookupHelp.status).toBe(0);
    expect(lookupHelp.stdout).toContain('Exit status: 0 signed, 1 unsigned, 2 unknown, 3 error.');
  });
});
