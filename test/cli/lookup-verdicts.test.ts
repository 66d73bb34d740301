/**
 * `signet lookup` against the real service over loopback: the exit status is
 * the verdict (0 signed, 1 unsigned, 2 unknown), stdout is the service's
 * answer as JSON (one line when stdout is not a terminal), stderr says it in
 * words, and the key is exercised (authentication is on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, runCli, startCliStack } from './support.js';

let stack: CliStack;
beforeAll(async () => {
  stack = await startCliStack();
});
afterAll(() => stack.close());

describe('signet lookup exits with the verdict', () => {
  it.each([
    ['signed', 0, samples.signed],
    ['unsigned', 1, samples.unsigned],
    ['unknown', 2, samples.unseen],
  ] as const)('%s: exit %i, the answer on stdout, a line in words on stderr', async (verdict, status, sample) => {
    const run = await runCli(['lookup', sample.md5, '--name', sample.name], { env: cliEnv(stack) });
    expect(run.status).toBe(status);
    // Not a terminal: exactly one line of JSON, the service's answer.
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ md5: sample.md5, name: sample.name, verdict });
    expect(run.stderr).toMatch(new RegExp(`^signet: ${verdict}: `));
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("names the publisher of a signed binary, and warns when the name is not the signature's program", async () => {
    const signed = await runCli(['lookup', samples.signed.md5, '--name', samples.signed.name, '--json'], { env: cliEnv(stack) });
    expect(signed.stderr).toContain('is signed by Apple Inc.');
    const renamed = await runCli(['lookup', samples.nameDiffers.md5, '--name', samples.nameDiffers.name], { env: cliEnv(stack) });
    expect(renamed.status).toBe(0);
    expect(renamed.stderr).toContain('"Google Chrome", not "chrome.exe"');
  });

  it('takes the URL and the key as options as well as from the environment', async () => {
    const run = await runCli([
      'lookup',
      samples.signed.md5,
      '--name',
      'git',
      '--url',
      stack.url,
      '--api-key',
      cliEnv(stack).SIGNET_API_KEY!,
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain(cliEnv(stack).SIGNET_API_KEY);
    expect(run.stderr).not.toContain(cliEnv(stack).SIGNET_API_KEY);
  });

  it('sends names that need encoding intact', async () => {
    const run = await runCli(['lookup', samples.unseen.md5, '--name', 'a b&c=d?/#é.exe'], { env: cliEnv(stack) });
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'a b&c=d?/#é.exe' });
  });
});
