import { afterEach, describe, expect, it } from 'vitest';
import { cloudFixtures } from '../../src/simulator/cloud/fixtures.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet, type FleetOptions } from '../support/fleet-stack.js';

/**
 * Forgetting with a shared tier: `DELETE /v1/cache/{hash}` and `DELETE
 * /v1/cache` on any one replica reach Redis and, through the fleet's channel,
 * every other replica's own cache; when Redis cannot be told, the caller is
 * told so (503 SHARED_CACHE_UNAVAILABLE) and this replica has forgotten anyway.
 * AUTH_DISABLED (the fleet's default) makes every caller an admin.
 */

const fleets: Fleet[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});

async function fleetOf(options: FleetOptions = {}): Promise<Fleet> {
  const fleet = await startFleet(options);
  fleets.push(fleet);
  return fleet;
}

const lookup = (fleet: Fleet, replica: number, hash: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${hash}?name=${encodeURIComponent(name)}` });

const cacheStatus = async (fleet: Fleet, replica: number, hash: string, name: string): Promise<string> => {
  const answer = await lookup(fleet, replica, hash, name);
  expect(answer.statusCode).toBe(200);
  return answer.json<{ cache: { status: string } }>().cache.status;
};

/** Whether a replica's own cache holds the hash (fresh or expired). */
const holds = (fleet: Fleet, replica: number, hash: string): boolean =>
  fleet.replicas[replica]!.app.signatures.cache.getAny(hash) !== undefined;

/** Polls (bounded) until `check` holds: the fleet's message takes a moment to arrive. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const verdictKeys = async (fleet: Fleet): Promise<string[]> =>
  (await fleet.redis.command('--scan', '--pattern', `${fleet.prefix}verdict:*`)).split('\n').filter((line) => line !== '');

const exists = async (fleet: Fleet, hash: string): Promise<number> =>
  Number(await fleet.redis.command('EXISTS', `${fleet.prefix}verdict:${hash}`));

describe('forgetting across a fleet sharing Redis', () => {
  it('DELETE /v1/cache/{md5} on one replica forgets it in Redis and on every replica; the fleet then asks Carbon Black once', async () => {
    const fleet = await fleetOf();
    const { md5, name } = samples.signed;
    for (const replica of [0, 1, 2]) await lookup(fleet, replica, md5, name);
    for (const replica of [0, 1, 2]) expect(await cacheStatus(fleet, replica, md5, name)).toBe('hit');
    expect(await exists(fleet, md5)).toBe(1);

    const forgotten = await fleet.replicas[0]!.app.inject({ method: 'DELETE', url: `/v1/cache/${md5}` });
    expect(forgotten.statusCode).toBe(204);
    expect(await exists(fleet, md5)).toBe(0);
    await eventually(() => [0, 1, 2].every((replica) => !holds(fleet, replica, md5)), 'every replica to drop the binary');

    const before = fleet.upstreamRequests();
    for (const replica of [1, 2, 0]) expect(await cacheStatus(fleet, replica, md5, name)).toBe('miss');
    expect(fleet.upstreamRequests()).toBe(before + 1);
    expect(await exists(fleet, md5)).toBe(1);
  });

  it('DELETE /v1/cache on one replica empties Redis’s verdicts and every replica’s cache', async () => {
    const fleet = await fleetOf();
    const binaries = [samples.signed, samples.unsigned, samples.unseen];
    for (const [i, { md5, name }] of binaries.entries()) {
      for (const replica of [0, 1, 2]) await lookup(fleet, (replica + i) % 3, md5, name);
    }
    expect((await verdictKeys(fleet)).length).toBe(binaries.length);
    for (const replica of fleet.replicas) expect(replica.app.signatures.stats().size).toBe(binaries.length);

    const emptied = await fleet.replicas[1]!.app.inject({ method: 'DELETE', url: '/v1/cache' });
    expect(emptied.statusCode).toBe(200);
    expect(emptied.json()).toEqual({ removed: binaries.length });
    expect(await verdictKeys(fleet)).toEqual([]);
    await eventually(async () => {
      const sizes = await Promise.all(fleet.replicas.map(async (replica) => (await replica.app.inject({ url: '/v1/cache' })).json().size));
      return sizes.every((size) => size === 0);
    }, 'every replica’s cache to be empty');

    const before = fleet.upstreamRequests();
    for (const replica of [2, 0, 1]) expect(await cacheStatus(fleet, replica, samples.signed.md5, samples.signed.name)).toBe('miss');
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });

  it('with Redis killed, DELETE answers 503 SHARED_CACHE_UNAVAILABLE (retryable) and this replica has forgotten anyway', async () => {
    const fleet = await fleetOf();
    const { md5, name } = samples.signed;
    await lookup(fleet, 0, md5, name);
    await lookup(fleet, 0, samples.unsigned.md5, samples.unsigned.name);
    expect(holds(fleet, 0, md5)).toBe(true);
    await fleet.redis.kill();
    await fleet.waitForTier(false);

    const one = await fleet.replicas[0]!.app.inject({ method: 'DELETE', url: `/v1/cache/${md5}` });
    expect(one.statusCode).toBe(503);
    expect(one.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(one.json()).toMatchObject({ status: 503, code: 'SHARED_CACHE_UNAVAILABLE', retryable: true });
    expect(one.headers['retry-after']).toBe('1');
    expect(holds(fleet, 0, md5)).toBe(false);
    expect(holds(fleet, 0, samples.unsigned.md5)).toBe(true);
    const before = fleet.upstreamRequests();
    expect(await cacheStatus(fleet, 0, md5, name)).toBe('miss');
    expect(fleet.upstreamRequests()).toBe(before + 1);

    const all = await fleet.replicas[0]!.app.inject({ method: 'DELETE', url: '/v1/cache' });
    expect(all.statusCode).toBe(503);
    expect(all.json()).toMatchObject({ code: 'SHARED_CACHE_UNAVAILABLE', retryable: true });
    expect(fleet.replicas[0]!.app.signatures.stats().size).toBe(0);
  });

  it('Cloud: a binary looked up by md5 and forgotten by its sha256 on another replica leaves neither key in Redis nor on any replica', async () => {
    const fleet = await fleetOf({ backend: 'cloud' });
    const { md5, sha256 } = cloudFixtures.osBinary;
    const first = await lookup(fleet, 0, md5, 'svchost.exe');
    expect(first.json()).toMatchObject({ md5, sha256, cache: { status: 'miss' } });
    expect(await cacheStatus(fleet, 2, sha256, 'svchost.exe')).toBe('miss');
    expect(await exists(fleet, md5)).toBe(1);
    expect(await exists(fleet, sha256)).toBe(1);
    expect(fleet.upstreamRequests()).toBe(1);
    for (const hash of [md5, sha256]) {
      expect(holds(fleet, 0, hash)).toBe(true);
      expect(holds(fleet, 2, hash)).toBe(true);
    }

    const forgotten = await fleet.replicas[1]!.app.inject({ method: 'DELETE', url: `/v1/cache/${sha256}` });
    expect(forgotten.statusCode).toBe(204);
    expect(await exists(fleet, md5)).toBe(0);
    expect(await exists(fleet, sha256)).toBe(0);
    await eventually(() => [0, 2].every((replica) => !holds(fleet, replica, md5) && !holds(fleet, replica, sha256)), 'both hashes dropped');

    expect(await cacheStatus(fleet, 0, md5, 'svchost.exe')).toBe('miss');
    expect(fleet.upstreamRequests()).toBe(2);
  });
});
