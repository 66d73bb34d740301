import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'warm-restart-token';
const KEY = 'warm-restart-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let simulator: SimulatorInstance;
let simulatorUrl: string;
let dir: string;

beforeAll(async () => {
  simulator = await buildSimulator({ token: TOKEN });
  simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'signet-warm-'));
});
afterAll(() => simulator.close());

const serverEnv = (file: string) => ({
  CB_URL: simulatorUrl,
  CB_API_TOKEN: TOKEN,
  API_KEYS: `test:${KEY}:admin`,
  CACHE_SNAPSHOT_FILE: file,
});

async function readyStatus(server: ServerProcess): Promise<{ status: number; body: { status: string } }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string } };
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exit).toEqual({ code: 0, signal: null });
}

describe('warm restarts through the real process', () => {
  it('writes the cache at shutdown and answers from it after a restart, with the original age', async () => {
    const file = join(dir, 'cache-snapshot');
    const first = await startServerProcess(serverEnv(file));
    const url = `/v1/signatures/${samples.signed.md5}?name=git`;
    const miss = (await (await fetch(`${first.url}${url}`, { headers: auth })).json()) as { cache: { status: string; storedAt: string } };
    expect(miss.cache.status).toBe('miss');
    await stop(first);
    expect(existsSync(file)).toBe(true);
    expect(first.lines.some((line) => line.includes('cache snapshot written'))).toBe(true);

    simulator.simulator.resetStats();
    const second = await startServerProcess(serverEnv(file));
    await expect.poll(async () => (await readyStatus(second)).status, { timeout: 10_000 }).toBe(200);
    const response = await fetch(`${second.url}${url}`, { headers: auth });
    const hit = (await response.json()) as { cache: { status: string; storedAt: string } };
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(hit.cache).toMatchObject({ status: 'hit', storedAt: miss.cache.storedAt });
    expect(simulator.simulator.stats.processSearches).toBe(0);
    await stop(second);
  });

  it('answers /readyz 503 "starting" until the snapshot is restored', async () => {
    // A FIFO makes the restore wait for the test, so "starting" is observed without racing a timer.
    const fifo = join(dir, 'slow-snapshot');
    execFileSync('mkfifo', [fifo]);
    const server = await startServerProcess(serverEnv(fifo));
    expect(await readyStatus(server)).toEqual({ status: 503, body: expect.objectContaining({ status: 'starting' }) });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await writeFile(fifo, 'signet-cache-snapshot\t1\t0\n');
    await expect.poll(async () => (await readyStatus(server)).status, { timeout: 10_000 }).toBe(200);
    await stop(server);
  });

  it('starts empty, with a warning, from a corrupt snapshot', async () => {
    const file = join(dir, 'corrupt-snapshot');
    writeFileSync(file, 'not a snapshot at all\n');
    const server = await startServerProcess(serverEnv(file));
    await expect.poll(async () => (await readyStatus(server)).status, { timeout: 10_000 }).toBe(200);
    const warnings = server.lines.filter((line) => line.includes('"level":40') && line.includes('snapshot'));
    expect(warnings.length).toBeGreaterThan(0);
    const cache = (await (await fetch(`${server.url}/v1/cache`, { headers: auth })).json()) as { size: number };
    expect(cache.size).toBe(0);
    await stop(server);
  });
});
