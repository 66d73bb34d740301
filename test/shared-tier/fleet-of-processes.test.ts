import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSimulator, type SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { requestCount } from '../support/stack.js';

/**
 * The fleet as Kubernetes runs it: three real Signet processes (src/server.ts),
 * one Carbon Black simulator and one real Redis, all on loopback. What the
 * fleet costs Carbon Black is read from the simulator's own counters.
 */

const keys = {
  spread: `k${randomBytes(16).toString('hex')}`,
  storm: `k${randomBytes(16).toString('hex')}`,
  limited: `k${randomBytes(16).toString('hex')}`,
  admin: `k${randomBytes(16).toString('hex')}`,
  outage: `k${randomBytes(16).toString('hex')}`,
};
const RATE_LIMIT = 1500;

let redis: RedisServer;
let simulator: SimulatorInstance;
let replicas: ServerProcess[];
const prefix = `procs-${randomBytes(4).toString('hex')}:`;

const searches = (): number => requestCount(simulator.simulator.stats);

async function get(replica: number, path: string, key: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${replicas[replica]!.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const lookup = (replica: number, md5: string, name: string, key: string) =>
  get(replica, `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, key);

async function readiness(replica: number): Promise<string> {
  const response = await fetch(`${replicas[replica]!.url}/readyz`);
  return ((await response.json()) as { sharedCache: string }).sharedCache;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const distinct = (tag: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${tag}${i.toString(16).padStart(32 - tag.length, '0')}`);

beforeAll(async () => {
  redis = await startRedis();
  const token = `sim-${randomBytes(12).toString('hex')}`;
  simulator = await buildSimulator({ token, latencyMs: 20 });
  const simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  const env = {
    CB_URL: simulatorUrl,
    CB_API_TOKEN: token,
    API_KEYS: Object.entries(keys)
      .map(([name, key]) => `${name}:${key}${name === 'admin' ? ':admin' : ''}`)
      .join(','),
    RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    // One md5 per request (no batching): a count of Carbon Black searches is a count of md5s asked.
    CB_BATCH_MAX_HASHES: '1',
    // Exact counts under a loaded CI machine: a replica's event-loop lag must not pass for a slow Redis.
    REDIS_TIMEOUT_MS: '1000',
  };
  replicas = await Promise.all([0, 1, 2].map(() => startServerProcess(env)));
  await eventually(async () => (await Promise.all([0, 1, 2].map(readiness))).every((state) => state === 'up'), 'the shared tier up');
}, 60_000);

afterAll(async () => {
  for (const replica of replicas ?? []) {
    replica.child.kill('SIGTERM');
    await replica.exit;
  }
  await simulator?.close();
  await redis?.stop();
});

describe('a fleet of three Signet processes on one Redis', () => {
  it('1000 distinct md5s looked up round-robin cost exactly 1000 Carbon Black searches', async () => {
    const md5s = distinct('a1', 1000);
    const before = searches();
    for (let start = 0; start < md5s.length; start += 100) {
      const answers = await Promise.all(
        md5s.slice(start, start + 100).map((md5, i) => lookup((start + i) % 3, md5, 'tool.exe', keys.spread)),
      );
      expect(answers.every((answer) => answer.status === 200 && answer.body.verdict === 'unknown')).toBe(true);
    }
    expect(searches() - before).toBe(1000);
    // Asked again on another replica each: every one is answered without Carbon Black.
    const again = await Promise.all(md5s.slice(0, 300).map((md5, i) => lookup((i + 1) % 3, md5, 'tool.exe', keys.spread)));
    expect(again.every((answer) => answer.status === 200)).toBe(true);
    expect(searches() - before).toBe(1000);
  });

  it('200 concurrent lookups of one md5 spread over the replicas cost one search', async () => {
    const { md5, name } = samples.signed;
    const before = searches();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => lookup(i % 3, md5, name, keys.storm)));
    expect(answers.every((answer) => answer.status === 200 && answer.body.verdict === 'signed')).toBe(true);
    expect(searches() - before).toBe(1);
  });

  it("a key's rate limit holds across the fleet", async () => {
    const md5 = samples.signed.md5;
    const answers: number[] = [];
    for (let start = 0; start < RATE_LIMIT + 30; start += 100) {
      const count = Math.min(100, RATE_LIMIT + 30 - start);
      const batch = await Promise.all(
        Array.from({ length: count }, (_, i) => lookup((start + i) % 3, md5, samples.signed.name, keys.limited)),
      );
      answers.push(...batch.map((answer) => answer.status));
    }
    expect(answers.filter((status) => status === 200)).toHaveLength(RATE_LIMIT);
    expect(answers.filter((status) => status === 429)).toHaveLength(30);
  });

  it('forgetting a binary on one replica reaches Redis and every replica', async () => {
    const { md5, name } = samples.unsigned;
    for (const replica of [0, 1, 2]) await lookup(replica, md5, name, keys.admin);
    const cached = await Promise.all([0, 1, 2].map((replica) => lookup(replica, md5, name, keys.admin)));
    expect(cached.map((answer) => (answer.body.cache as { status: string }).status)).toEqual(['hit', 'hit', 'hit']);

    const forgot = await fetch(`${replicas[0]!.url}/v1/cache/${md5}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys.admin}` },
    });
    expect(forgot.status).toBe(204);
    expect(await redis.command('EXISTS', `${prefix}verdict:${md5}`)).toBe('0');
    const before = searches();
    // Each of the others, once the fleet's message has reached it, answers without its old entry.
    const forgotten = new Set<number>();
    await eventually(async () => {
      for (const replica of [1, 2].filter((each) => !forgotten.has(each))) {
        const answer = await lookup(replica, md5, name, keys.admin);
        if ((answer.body.cache as { status: string }).status !== 'hit') forgotten.add(replica);
      }
      return forgotten.size === 2;
    }, 'replicas 1 and 2 to forget');
    // The replicas that forgot asked Carbon Black once between them.
    expect(searches() - before).toBe(1);
  });

  it('a corrupt value in Redis is ignored: the lookup asks Carbon Black and answers its verdict', async () => {
    const { md5, name } = samples.unsigned;
    await redis.command('SET', `${prefix}verdict:${md5}`, '{"v":1,"basis":"binary-record","verdict":["f","Signed"]}');
    const forgot = await fetch(`${replicas[2]!.url}/v1/cache/${md5}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys.admin}` },
    });
    expect(forgot.status).toBe(204);
    await redis.command('SET', `${prefix}verdict:${md5}`, 'not a verdict at all');
    const before = searches();
    const answer = await lookup(1, md5, name, keys.admin);
    expect(answer.status).toBe(200);
    expect(answer.body.verdict).toBe('unsigned');
    expect(searches() - before).toBe(1);
  });

  it('Redis killed mid-run: every lookup still answers its verdict, and the tier comes back with Redis', async () => {
    const md5s = distinct('b2', 600);
    const truth = new Map<string, string>([
      [samples.signed.md5, 'signed'],
      [samples.unsigned.md5, 'unsigned'],
    ]);
    const names = new Map<string, string>([
      [samples.signed.md5, samples.signed.name],
      [samples.unsigned.md5, samples.unsigned.name],
    ]);
    const work = [...md5s, ...Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? samples.signed.md5 : samples.unsigned.md5))];
    const statuses: number[] = [];
    const wrong: string[] = [];
    let killed = false;
    for (let start = 0; start < work.length; start += 50) {
      if (!killed && start >= work.length / 3) {
        await redis.kill();
        killed = true;
      }
      const batch = work.slice(start, start + 50);
      const answers = await Promise.all(batch.map((md5, i) => lookup((start + i) % 3, md5, names.get(md5) ?? 'tool.exe', keys.outage)));
      answers.forEach((answer, i) => {
        statuses.push(answer.status);
        const expected = truth.get(batch[i]!) ?? 'unknown';
        if (answer.status === 200 && answer.body.verdict !== expected) wrong.push(batch[i]!);
      });
    }
    expect(killed).toBe(true);
    expect(wrong).toEqual([]);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(await Promise.all([0, 1, 2].map(readiness))).toEqual(['down', 'down', 'down']);

    await redis.restart();
    await eventually(async () => (await Promise.all([0, 1, 2].map(readiness))).every((state) => state === 'up'), 'the tier back up');
    const [md5] = distinct('c3', 1);
    const before = searches();
    expect((await lookup(0, md5!, 'tool.exe', keys.outage)).status).toBe(200);
    expect((await lookup(1, md5!, 'tool.exe', keys.outage)).status).toBe(200);
    expect(searches() - before).toBe(1);
  }, 60_000);
});
