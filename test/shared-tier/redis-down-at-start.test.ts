import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/**
 * REDIS_URL names a Redis that is not there when the fleet starts: every
 * replica serves on its own (as without REDIS_URL) and says so, and once a
 * Redis answers on that address each one connects by itself and the fleet
 * shares verdicts again, with no restart.
 */
let redis: RedisServer;
let fleet: Fleet;
beforeAll(async () => {
  // Started then stopped: its loopback port is closed now, and restart() opens that very port again.
  redis = await startRedis();
  await redis.stop();
  fleet = await startFleet({ redis, redisUrl: redis.url, simulator: { latencyMs: 5 } });
});
afterAll(async () => {
  await fleet?.close();
  await redis?.stop();
});

const lookup = (replica: number, md5: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });
const readiness = (replica: number) => fleet.replicas[replica]!.app.inject({ url: '/readyz' });
/** An md5 no binary of the simulator has: its verdict is `unknown`. */
const unseenMd5 = () => randomBytes(16).toString('hex');

describe('Redis down when the fleet starts', () => {
  it('every replica answers lookups with the right verdicts by itself, ready, reporting the shared cache down', async () => {
    await expect(redis.command('PING')).rejects.toThrow();
    expect(fleet.replicas.every((replica) => !replica.tier.up)).toBe(true);

    const binaries = [
      { md5: samples.signed.md5, name: samples.signed.name, verdict: samples.signed.verdict },
      { md5: samples.unsigned.md5, name: samples.unsigned.name, verdict: samples.unsigned.verdict },
      { md5: samples.unseen.md5, name: samples.unseen.name, verdict: samples.unseen.verdict },
      { md5: unseenMd5(), name: 'tool.exe', verdict: 'unknown' },
    ];
    const before = fleet.upstreamRequests();
    for (const { md5, name, verdict } of binaries) {
      for (let replica = 0; replica < 3; replica++) {
        const answer = await lookup(replica, md5, name);
        expect(answer.statusCode, answer.body).toBe(200);
        expect(answer.json()).toMatchObject({ verdict });
      }
    }
    // Nothing is shared: each replica asked Carbon Black for each binary itself.
    expect(fleet.upstreamRequests()).toBe(before + binaries.length * 3);

    for (let replica = 0; replica < 3; replica++) {
      const ready = await readiness(replica);
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', sharedCache: 'down' });
      expect(await fleet.metric(fleet.replicas[replica]!, 'signet_shared_cache_up')).toBe(0);
    }
  });

  it('when Redis comes up on that address, every replica connects by itself and verdicts are shared again', async () => {
    await redis.restart();
    await fleet.waitForTier(true);
    for (let replica = 0; replica < 3; replica++) {
      const ready = await readiness(replica);
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', sharedCache: 'up' });
      expect(await fleet.metric(fleet.replicas[replica]!, 'signet_shared_cache_up')).toBe(1);
    }

    for (const { md5, name, verdict } of [
      { md5: samples.python.md5, name: samples.python.name, verdict: samples.python.verdict },
      { md5: unseenMd5(), name: 'tool.exe', verdict: 'unknown' },
    ]) {
      const before = fleet.upstreamRequests();
      const first = await lookup(0, md5, name);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ verdict });
      expect(fleet.upstreamRequests()).toBe(before + 1);
      const second = await lookup(1, md5, name);
      expect(second.statusCode).toBe(200);
      expect(second.json()).toMatchObject({ verdict });
      expect(second.json().cache.storedAt).toBe(first.json().cache.storedAt);
      expect(fleet.upstreamRequests()).toBe(before + 1);
    }
    expect(await fleet.metric(fleet.replicas[1]!, 'signet_shared_cache_hits_total')).toBe(2);
  });
});
