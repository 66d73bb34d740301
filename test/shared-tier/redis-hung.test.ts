import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/**
 * Redis hung (SIGSTOP): its connections stay open but nothing answers. Each
 * command gives up after REDIS_TIMEOUT_MS and the lookup carries on without
 * the shared tier, so lookups stay prompt and correct, and the failed reads
 * are counted.
 */
let fleet: Fleet;
let pid: number;
let stopped = false;

const resume = () => {
  if (!stopped) return;
  stopped = false;
  process.kill(pid, 'SIGCONT');
};

beforeAll(async () => {
  fleet = await startFleet({ env: { REDIS_TIMEOUT_MS: '50' }, simulator: { latencyMs: 5 } });
  const info = await fleet.redis.command('INFO', 'server');
  pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  expect(pid).toBeGreaterThan(0);
});
// Whatever happened in a test, Redis is never left stopped (its close, and the fleet's, would wait on it).
afterEach(resume);
afterAll(async () => {
  resume();
  await fleet?.close();
});

const lookup = (replica: number, md5: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });
/** An md5 no binary of the simulator has: its verdict is `unknown`. */
const unseenMd5 = () => randomBytes(16).toString('hex');
const readErrors = async () => {
  let sum = 0;
  for (const replica of fleet.replicas) sum += await fleet.metric(replica, 'signet_shared_cache_errors_total', 'operation="read"');
  return sum;
};

describe('Redis hung', () => {
  it('lookups of new binaries answer promptly with the right verdicts, and the timed-out reads are counted', async () => {
    const errorsBefore = await readErrors();
    const binaries = [
      { md5: samples.signed.md5, name: samples.signed.name, verdict: samples.signed.verdict },
      { md5: samples.unsigned.md5, name: samples.unsigned.name, verdict: samples.unsigned.verdict },
      { md5: samples.unseen.md5, name: samples.unseen.name, verdict: samples.unseen.verdict },
      ...Array.from({ length: 6 }, () => ({ md5: unseenMd5(), name: 'tool.exe', verdict: 'unknown' })),
    ];

    process.kill(pid, 'SIGSTOP');
    stopped = true;
    // Hung, not gone: the connections are still open, so only the command timeout can save a lookup.
    expect(fleet.replicas.every((replica) => replica.tier.up)).toBe(true);

    for (const [i, { md5, name, verdict }] of binaries.entries()) {
      const started = Date.now();
      const answer = await lookup(i % 3, md5, name);
      const elapsed = Date.now() - started;
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ verdict });
      expect(elapsed).toBeLessThan(2000);
    }

    // Concurrently too: each waits out its own timeout, not the others'.
    const started = Date.now();
    const concurrent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => ({ md5: unseenMd5(), i })).map(({ md5, i }) => lookup(i % 3, md5, 'tool.exe')),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    for (const answer of concurrent) {
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ verdict: 'unknown' });
    }

    const ready = await fleet.replicas[0]!.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(await readErrors()).toBeGreaterThan(errorsBefore);
  });

  it('once Redis runs again, verdicts are shared again', async () => {
    resume();
    // A replica that met the hang stops asking Redis for a second; it is back once that pause ends.
    await fleet.waitForTier(true);
    const md5 = unseenMd5();
    const before = fleet.upstreamRequests();
    const first = await lookup(0, md5, 'tool.exe');
    const second = await lookup(1, md5, 'tool.exe');
    for (const answer of [first, second]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ verdict: 'unknown', cache: { storedAt: first.json().cache.storedAt } });
    }
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });
});
