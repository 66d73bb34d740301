import { afterEach, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../support/fleet-stack.js';
import { requestCount } from '../support/stack.js';

/**
 * CB_FLEET_MAX_CONCURRENCY: however many replicas there are, the fleet never
 * has more Carbon Black requests open at once than the bound (each replica's
 * own CB_MAX_CONCURRENCY, here 8, would allow 24). Measured where it counts:
 * the simulator's own peak of open requests.
 */

const FLEET_BOUND = 2;

const fleets: Fleet[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});

async function fleetWith(env: Record<string, string>): Promise<Fleet> {
  const fleet = await startFleet({
    simulator: { latencyMs: 40 },
    // REDIS_TIMEOUT_MS stays fleet-stack's generous one (a slot request timing out would let its request go unbounded).
    // One md5 per request (no batching), so 60 misses make 60 requests for the bound to hold back.
    env: { CB_MAX_CONCURRENCY: '8', CB_BATCH_MAX_HASHES: '1', ...env },
  });
  fleets.push(fleet);
  return fleet;
}

/** Distinct md5s no test looks up twice: each a miss for the whole fleet. */
const distinct = (tag: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${tag}${i.toString(16).padStart(32 - tag.length, '0')}`);

const lookup = (fleet: Fleet, replica: number, md5: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=tool.exe` });

/** 60 concurrent misses, round-robin over the replicas; resolves their statuses. */
async function storm(fleet: Fleet, md5s: string[]): Promise<number[]> {
  const answers = await Promise.all(md5s.map((md5, i) => lookup(fleet, i % 3, md5)));
  return answers.map((answer) => answer.statusCode);
}

describe('CB_FLEET_MAX_CONCURRENCY across 3 replicas', () => {
  it('60 distinct misses spread over the replicas all answer, with never more than 2 Carbon Black requests open at once', async () => {
    const fleet = await fleetWith({ CB_FLEET_MAX_CONCURRENCY: String(FLEET_BOUND) });
    const stats = fleet.simulator!.simulator.stats;
    fleet.simulator!.simulator.resetStats();
    const statuses = await storm(fleet, distinct('c1', 60));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(requestCount(stats)).toBe(60);
    expect(stats.peakInFlight).toBeLessThanOrEqual(FLEET_BOUND);
    // The load was concurrent: the bound, not a lack of demand, is what held it at 2.
    expect(stats.peakInFlight).toBe(FLEET_BOUND);
  });

  it('baseline: without CB_FLEET_MAX_CONCURRENCY the same load has more than 2 requests open at once', async () => {
    const fleet = await fleetWith({});
    const stats = fleet.simulator!.simulator.stats;
    fleet.simulator!.simulator.resetStats();
    const statuses = await storm(fleet, distinct('c2', 60));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(stats.peakInFlight).toBeGreaterThan(FLEET_BOUND);
    expect(stats.peakInFlight).toBeLessThanOrEqual(3 * 8);
  });

  it('Redis killed mid-run: every lookup still answers, the bound falling back to each replica’s own', async () => {
    const fleet = await fleetWith({ CB_FLEET_MAX_CONCURRENCY: String(FLEET_BOUND) });
    const simulator = fleet.simulator!.simulator;
    const stats = simulator.stats;
    simulator.resetStats();
    const running = storm(fleet, distinct('c3', 60));
    const deadline = Date.now() + 10_000;
    while (requestCount(stats) < 10) {
      if (Date.now() > deadline) throw new Error('the storm never reached 10 Carbon Black requests');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(stats.peakInFlight).toBeLessThanOrEqual(FLEET_BOUND);
    await fleet.redis.kill();
    simulator.resetStats();
    const statuses = await running;
    expect(statuses.every((status) => status === 200)).toBe(true);
    // The rest went under the replicas' own bounds (8 each), no longer held at the fleet's 2.
    expect(stats.peakInFlight).toBeGreaterThan(FLEET_BOUND);
    expect(stats.peakInFlight).toBeLessThanOrEqual(3 * 8);
    expect(await fleet.metric(fleet.replicas[0]!, 'signet_shared_cache_up')).toBe(0);
  });

  it('a Redis stall that times out slot requests leaves no slot taken: once Redis answers, the fleet asks Carbon Black at once', async () => {
    // The real timeout, and a deadline short enough that a fleet without slots shows within the test's time.
    const fleet = await fleetWith({ CB_FLEET_MAX_CONCURRENCY: String(FLEET_BOUND), REDIS_TIMEOUT_MS: '50', CB_DEADLINE_MS: '3000' });
    // Redis holds every command for 800 ms, then runs them all: the replicas have given up on them by then.
    await fleet.redis.command('CLIENT', 'PAUSE', '800', 'ALL');
    const during = await Promise.all(distinct('c4', 3).map((md5, i) => lookup(fleet, i, md5)));
    expect(during.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    // redis-cli's own command waits out the pause; then the replicas take Redis up again.
    expect(await fleet.redis.command('PING')).toBe('PONG');
    const deadline = Date.now() + 10_000;
    while (!fleet.replicas.every((replica) => replica.tier.up)) {
      if (Date.now() > deadline) throw new Error('the replicas never took Redis up again');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Nothing is in flight: no slot may be held. A slot granted to a request the replica had given up on
    // would be held for its whole lease (CB_DEADLINE_MS + 5 s), and with the bound taken every miss would wait it out.
    const after = await Promise.all(distinct('c5', 6).map((md5, i) => lookup(fleet, i % 3, md5)));
    expect(after.map((answer) => [answer.statusCode, answer.statusCode === 200 ? '' : answer.json().code])).toEqual(
      Array.from({ length: 6 }, () => [200, '']),
    );
    expect(await fleet.redis.command('ZCARD', `${fleet.prefix}upstream:slots`)).toBe('0');
  });
});
