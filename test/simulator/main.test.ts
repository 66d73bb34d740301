import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';

/** `npm run simulator` end to end: the entry point in a child process, on loopback. */

const MAIN = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, output: () => stdout, errors: () => stderr };
}

describe('simulator main', () => {
  it('listens, prints the URL, token and samples, serves, and exits 0 on SIGTERM', async () => {
    const run = start({ SIMULATOR_PORT: '0', SIMULATOR_TOKEN: 'main-test-token', SIMULATOR_FAULT_ERROR_STATUS: '502' });
    const exited = once(run.child, 'exit');
    try {
      const deadline = Date.now() + 15_000;
      while (!run.output().includes('admin:')) {
        if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no banner: ${run.output()} ${run.errors()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())?.[1];
      expect(url).toBeDefined();
      expect(run.output()).toContain('X-Auth-Token: main-test-token');
      expect(run.output()).toContain(samples.signed.md5);
      expect(run.output()).toContain(samples.nameDiffers.md5);
      const info = await fetch(`${url}/api/info`, { headers: { 'x-auth-token': 'main-test-token' } });
      expect(info.status).toBe(200);
      const faults = await fetch(`${url}/__simulator/faults`, { headers: { 'x-auth-token': 'main-test-token' } });
      expect(await faults.json()).toMatchObject({ errorStatus: 502 });
    } finally {
      run.child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
  }, 30_000);

  it('refuses a bad environment with one clear line and exit code 2', async () => {
    const run = start({ SIMULATOR_PORT: 'eighty' });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(2);
    expect(run.errors().trim().split('\n')).toHaveLength(1);
    expect(run.errors()).toContain('SIMULATOR_PORT');
  }, 30_000);
});
