import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cloudFixtures, unseenFixture } from '../../../src/simulator/cloud/fixtures.js';
import { bannerOf, exitCodeAfter, startMain } from '../main-process.js';

/** `SIMULATOR_BACKEND=cloud npm run simulator` end to end: the entry point in a child process, on loopback. */

describe('simulator main, SIMULATOR_BACKEND=cloud', () => {
  it('prints the credentials, limits, samples and working curl commands, serves, and exits 0 on SIGTERM', async () => {
    const run = startMain({
      SIMULATOR_BACKEND: 'cloud',
      SIMULATOR_PORT: '0',
      SIMULATOR_CLOUD_ORG_KEY: 'MAINTEST',
      SIMULATOR_CLOUD_API_ID: 'MAINAPIID0',
      SIMULATOR_CLOUD_API_SECRET: 'MAINSECRET00000000000000',
      SIMULATOR_CLOUD_JOB_MS: '100',
      SIMULATOR_CLOUD_RATE_LIMIT: '77',
      SIMULATOR_FAULT_ERROR_STATUS: '502',
    });
    const code = await exitCodeAfter(run, async () => {
      const text = await bannerOf(run);
      const url = /Cloud simulator listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      expect(url).toBeDefined();
      expect(text).toContain('org key:      MAINTEST');
      expect(text).toContain('API ID:       MAINAPIID0');
      expect(text).toContain('API secret:   MAINSECRET00000000000000');
      expect(text).toContain('X-Auth-Token: MAINSECRET00000000000000/MAINAPIID0');
      expect(text).not.toContain('(generated;');
      expect(text).toContain('complete 100 ms after creation');
      expect(text).toContain('rate limit 77 requests per 300 s');
      for (const fixture of Object.values(cloudFixtures)) {
        expect(text).toContain(fixture.sha256);
        expect(text).toContain(fixture.md5);
      }
      expect(text).toContain(unseenFixture.sha256);
      expect(text).toContain('[OS, SIGNED, TRUSTED, VERIFIED]');
      expect(text).toContain('[SIGNED, VERIFIED] / [NOT_SIGNED]');

      // The printed commands, run as printed, through a real shell.
      const commands = text
        .split('\n')
        .filter((line) => line.startsWith('    JOB=$(') || line.startsWith('    sleep '))
        .map((line) => line.trim());
      expect(commands).toHaveLength(2);
      const shell = spawn('sh', ['-c', commands.join('\n')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const [code] = await once(shell, 'exit');
      expect(code).toBe(0);
      const results = JSON.parse(out) as { results: Record<string, unknown>[]; num_found: number; completed: number };
      expect(results.completed).toBe(45);
      expect(results.num_found).toBe(cloudFixtures.osBinary.rows);
      expect(results.results[0]).toHaveProperty('process_publisher_state');

      const faults = await fetch(`${url}/__simulator/faults`, { headers: { 'x-auth-token': 'MAINSECRET00000000000000/MAINAPIID0' } });
      expect(await faults.json()).toMatchObject({ errorStatus: 502 });
    });
    expect(code).toBe(0);
  }, 30_000);

  it('generates the credentials it is not given and says so', async () => {
    const run = startMain({ SIMULATOR_BACKEND: 'cloud', SIMULATOR_PORT: '0' });
    const code = await exitCodeAfter(run, async () => {
      const text = await bannerOf(run);
      expect(text).toMatch(/org key: {6}[A-Z0-9]{8} {3}\(generated; set SIMULATOR_CLOUD_ORG_KEY to choose one\)/);
      expect(text).toMatch(/X-Auth-Token: [A-Z0-9]{24}\/[A-Z0-9]{10}\n/);
    });
    expect(code).toBe(0);
  }, 30_000);

  it('refuses a bad environment with one line naming the variables and exit code 2', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [
        { SIMULATOR_BACKEND: 'cloud', SIMULATOR_CLOUD_RATE_LIMIT: 'lots', SIMULATOR_TOKEN: 'edr-token' },
        ['SIMULATOR_CLOUD_RATE_LIMIT', 'SIMULATOR_TOKEN'],
      ],
      [{ SIMULATOR_BACKEND: 'defense' }, ['SIMULATOR_BACKEND']],
    ];
    for (const [env, named] of cases) {
      const run = startMain(env);
      const [code] = await once(run.child, 'exit');
      expect(code).toBe(2);
      const lines = run.errors().trim().split('\n');
      expect(lines).toHaveLength(1);
      for (const variable of named) expect(lines[0]).toContain(variable);
    }
  }, 30_000);
});
