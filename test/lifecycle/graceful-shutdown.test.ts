import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { populationMd5, populationName } from '../../src/simulator/population.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'shutdown-test-token';
const KEY = 'shutdown-test-key-0123456789';
let simulator: SimulatorInstance;
let simulatorUrl: string;

beforeAll(async () => {
  // Slow enough that lookups are still waiting on Carbon Black when SIGTERM arrives.
  simulator = await buildSimulator({ token: TOKEN, population: 100, latencyMs: 1500 });
  simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => simulator.close());

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graceful shutdown of the real process', () => {
  it('on SIGTERM stops accepting, lets in-flight lookups finish, and exits 0', async () => {
    const server = await startServerProcess({
      CB_URL: simulatorUrl,
      CB_API_TOKEN: TOKEN,
      API_KEYS: `test:${KEY}`,
      SHUTDOWN_GRACE_MS: '10000',
    });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const lookups = Array.from({ length: 6 }, (_, i) =>
      fetch(`${server.url}/v1/signatures/${populationMd5(i)}?name=${populationName(i)}`, { headers: { authorization: `Bearer ${KEY}` } }),
    );
    // Every lookup is waiting on Carbon Black: its md5 is in a search still open (misses batch, so maybe fewer than 6 searches).
    const md5sAsked = (): number => simulator.simulator.stats.binaryQueries.flatMap((q) => q.split(' OR ')).length;
    await until(() => md5sAsked() === 6 && simulator.simulator.stats.inFlight > 0);

    server.child.kill('SIGTERM');
    const answers = await Promise.all(lookups);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as Array<{ md5: string }>;
    expect(bodies.map((body) => body.md5)).toEqual(Array.from({ length: 6 }, (_, i) => populationMd5(i)));

    const exited = await server.exit;
    if (exited.code !== 0) console.log(server.lines.join('\n'));
    expect(exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`${server.url}/readyz`)).rejects.toThrow();
    expect(server.lines.some((line) => line.includes('shutting down'))).toBe(true);
  });
});
