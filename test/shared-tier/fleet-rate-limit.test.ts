import { afterEach, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/**
 * RATE_LIMIT_PER_MINUTE with a shared tier: one allowance per API key for the
 * whole fleet, counted in Redis, however the requests spread over the
 * replicas; with Redis gone, each replica counts on its own again (as
 * without a shared tier) rather than stop limiting.
 */

const LIMIT = 10;
const keys = {
  ops: 'ops-key-0123456789abcdefghijklmnopqrstuvwxyz',
  other: 'other-key-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
};

const fleets: Fleet[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});

async function fleetWithKeys(): Promise<Fleet> {
  const fleet = await startFleet({
    env: {
      AUTH_DISABLED: 'false',
      API_KEYS: `ops:${keys.ops},other:${keys.other}`,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
    },
  });
  fleets.push(fleet);
  return fleet;
}

const lookup = (fleet: Fleet, replica: number, key: string) =>
  fleet.replicas[replica]!.app.inject({
    url: `/v1/signatures/${samples.signed.md5}?name=${encodeURIComponent(samples.signed.name)}`,
    headers: { authorization: `Bearer ${key}` },
  });

const count = (statuses: number[], status: number) => statuses.filter((each) => each === status).length;

describe('RATE_LIMIT_PER_MINUTE across a fleet sharing Redis', () => {
  it('15 lookups by one key spread over 3 replicas: exactly 10 answer 200, 5 answer 429 RATE_LIMITED with Retry-After', async () => {
    const fleet = await fleetWithKeys();
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => lookup(fleet, i % 3, keys.ops)));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(count(statuses, 200)).toBe(LIMIT);
    expect(count(statuses, 429)).toBe(5);
    for (const limited of answers.filter((answer) => answer.statusCode === 429)) {
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Every replica refuses the key now, also one that answered none of the 429s.
    for (const replica of [0, 1, 2]) expect((await lookup(fleet, replica, keys.ops)).statusCode).toBe(429);
    // The count is the fleet's, in Redis.
    expect(await fleet.redis.command('--scan', '--pattern', `${fleet.prefix}rate:*`)).not.toBe('');
  });

  it('a second key has an allowance of its own, also spread over the replicas', async () => {
    const fleet = await fleetWithKeys();
    for (let i = 0; i < 12; i++) await lookup(fleet, i % 3, keys.ops);
    expect((await lookup(fleet, 0, keys.ops)).statusCode).toBe(429);

    const others = await Promise.all(Array.from({ length: 12 }, (_, i) => lookup(fleet, i % 3, keys.other)));
    const statuses = others.map((answer) => answer.statusCode);
    expect(count(statuses, 200)).toBe(LIMIT);
    expect(count(statuses, 429)).toBe(2);
  });

  it('with Redis killed, each replica limits on its own: 12 lookups to one replica give 10 × 200 and 2 × 429, no 5xx', async () => {
    const fleet = await fleetWithKeys();
    expect((await lookup(fleet, 0, keys.other)).statusCode).toBe(200);
    await fleet.redis.kill();
    await fleet.waitForTier(false);

    for (const replica of [0, 1, 2]) {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await lookup(fleet, replica, keys.ops)).statusCode);
      // Each replica's own window: 10 each (30 in all), never unlimited.
      expect({ replica, ok: count(statuses, 200), limited: count(statuses, 429) }).toEqual({ replica, ok: LIMIT, limited: 2 });
    }
    // A replica that counted a request through Redis before it died still has that request counted.
    const otherStatuses: number[] = [];
    for (let i = 0; i < 12; i++) otherStatuses.push((await lookup(fleet, 0, keys.other)).statusCode);
    expect({ ok: count(otherStatuses, 200), limited: count(otherStatuses, 429) }).toEqual({ ok: LIMIT - 1, limited: 3 });

    const readiness = await fleet.replicas[0]!.app.inject({ url: '/readyz' });
    expect(readiness.json()).toMatchObject({ sharedCache: 'down' });
  });
});
