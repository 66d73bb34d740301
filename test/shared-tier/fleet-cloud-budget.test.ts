import { afterEach, describe, expect, it } from 'vitest';
import { cloudUnseenHashes } from '../../src/simulator/cloud/population.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';
import { freePort } from '../support/redis-server.js';

/**
 * CB_REQUESTS_PER_5_MINUTES with a shared tier: Carbon Black Cloud's limit is
 * per API key and every replica spends the same key, so the fleet counts its
 * requests in Redis and stays within one budget, where three replicas on
 * their own would each spend a whole one.
 *
 * A job that is complete at once (jobDurationMs 0) costs two requests, its
 * creation and one poll; CB_BATCH_WINDOW_MS 0 and one lookup at a time keep
 * each miss in a job of its own. 30 distinct misses thus want 60 requests:
 * three budgets of 20.
 */

const BUDGET = 20;
const LOOKUPS = 30;

const fleets: Fleet[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});

async function cloudFleet(redisUrl?: string, env: Record<string, string> = {}): Promise<Fleet> {
  const fleet = await startFleet({
    backend: 'cloud',
    cloudSimulator: { jobDurationMs: 0 },
    env: { CB_REQUESTS_PER_5_MINUTES: String(BUDGET), CB_BATCH_WINDOW_MS: '0', ...env },
    ...(redisUrl !== undefined && { redisUrl }),
  });
  fleets.push(fleet);
  return fleet;
}

interface Answered {
  replica: number;
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
}

/** LOOKUPS distinct misses, one at a time, round-robin over the replicas. */
async function lookups(fleet: Fleet, offset: number): Promise<Answered[]> {
  const answered: Answered[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const replica = i % 3;
    const response = await fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${cloudUnseenHashes(offset + i).md5}?name=x` });
    const retryAfter = response.headers['retry-after'];
    answered.push({
      replica,
      status: response.statusCode,
      code: response.statusCode === 200 ? undefined : response.json<{ code: string }>().code,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    });
  }
  return answered;
}

describe('the Cloud request budget across 3 replicas', () => {
  it('the fleet sends at most CB_REQUESTS_PER_5_MINUTES; lookups beyond it answer 503 UPSTREAM_BUDGET_SPENT with Retry-After', async () => {
    const fleet = await cloudFleet();
    const stats = fleet.cloudSimulator!.cloudSimulator.stats;
    const answered = await lookups(fleet, 0);

    expect(stats.requests).toBeLessThanOrEqual(BUDGET);
    // The whole budget was spent (the load wanted three times as much), not less for want of sharing it.
    expect(stats.requests).toBe(BUDGET);
    expect(stats.rateLimited).toBe(0);

    const ok = answered.filter((each) => each.status === 200);
    const refused = answered.filter((each) => each.status !== 200);
    expect(ok.length).toBe(BUDGET / 2);
    expect(refused.length).toBe(LOOKUPS - BUDGET / 2);
    for (const each of refused) {
      expect(each).toMatchObject({ status: 503, code: 'UPSTREAM_BUDGET_SPENT' });
      // The oldest request leaves the 5-minute window in about 5 minutes.
      expect(Number(each.retryAfter)).toBeGreaterThan(60);
      expect(Number(each.retryAfter)).toBeLessThanOrEqual(300);
    }
    // Every replica was refused, not one replica that spent its own budget.
    expect(new Set(refused.map((each) => each.replica))).toEqual(new Set([0, 1, 2]));
    // The spent budget is in Redis, for every replica to see.
    expect(Number(await fleet.redis.command('ZCARD', `${fleet.prefix}budget:window`))).toBe(BUDGET);
  });

  it('90 concurrent misses, one job each, stay within the budget too: each answers 200 or 503 UPSTREAM_BUDGET_SPENT', async () => {
    const fleet = await cloudFleet(undefined, { CB_BATCH_MAX_HASHES: '1' });
    const stats = fleet.cloudSimulator!.cloudSimulator.stats;
    const answers = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        fleet.replicas[i % 3]!.app.inject({ url: `/v1/signatures/${cloudUnseenHashes(500 + i).md5}?name=x` }),
      ),
    );
    expect(stats.requests).toBeLessThanOrEqual(BUDGET);
    expect(stats.rateLimited).toBe(0);
    const refused = answers.filter((answer) => answer.statusCode !== 200);
    expect(refused.length).toBeGreaterThanOrEqual(90 - BUDGET / 2);
    for (const answer of refused) {
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ code: 'UPSTREAM_BUDGET_SPENT' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('baseline: three replicas without Redis each spend a whole budget, together 3 × CB_REQUESTS_PER_5_MINUTES', async () => {
    const fleet = await cloudFleet(`redis://127.0.0.1:${await freePort()}`);
    const stats = fleet.cloudSimulator!.cloudSimulator.stats;
    const answered = await lookups(fleet, 1000);
    expect(answered.every((each) => each.status === 200)).toBe(true);
    expect(stats.requests).toBe(3 * BUDGET);
    for (const replica of fleet.replicas) expect(replica.backend.budget!.usage().used).toBe(BUDGET);
  });
});
