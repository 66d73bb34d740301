import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { bannerOf, exitCodeAfter, startMain } from './main-process.js';

/** `npm run simulator` end to end: the entry point in a child process, on loopback. */

describe('simulator main', () => {
  it('listens, prints the URL, token and samples, serves, and exits 0 on SIGTERM', async () => {
    const run = startMain({ SIMULATOR_PORT: '0', SIMULATOR_TOKEN: 'main-test-token', SIMULATOR_FAULT_ERROR_STATUS: '502' });
    const code = await exitCodeAfter(run, async () => {
      await bannerOf(run);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())?.[1];
      expect(url).toBeDefined();
      expect(run.output()).toContain('X-Auth-Token: main-test-token');
      expect(run.output()).toContain(samples.signed.md5);
      expect(run.output()).toContain(samples.nameDiffers.md5);
      const info = await fetch(`${url}/api/info`, { headers: { 'x-auth-token': 'main-test-token' } });
      expect(info.status).toBe(200);
      const faults = await fetch(`${url}/__simulator/faults`, { headers: { 'x-auth-token': 'main-test-token' } });
      expect(await faults.json()).toMatchObject({ errorStatus: 502 });
    });
    expect(code).toBe(0);
  }, 30_000);

  it('refuses a bad environment with one clear line and exit code 2', async () => {
    const run = startMain({ SIMULATOR_PORT: 'eighty' });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(2);
    expect(run.errors().trim().split('\n')).toHaveLength(1);
    expect(run.errors()).toContain('SIMULATOR_PORT');
  }, 30_000);
});
