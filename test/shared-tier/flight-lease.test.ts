import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/** A flight left by a replica that died holding it delays the others by its lease, not for good. */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ replicas: 2, env: { REDIS_FLIGHT_LEASE_MS: '600' } });
});
afterAll(() => fleet.close());

const lookup = (md5: string) => fleet.replicas[0]!.app.inject({ url: `/v1/signatures/${md5}?name=tool.exe` });

describe('a flight whose replica died', () => {
  it('is waited out for its lease, then this replica asks Carbon Black once', async () => {
    const md5 = randomBytes(16).toString('hex');
    await fleet.redis.command('SET', `${fleet.prefix}flight:${md5}`, 'a-replica-that-died:1', 'PX', '600');
    const before = fleet.upstreamRequests();
    const started = Date.now();
    const answer = await lookup(md5);
    const elapsed = Date.now() - started;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ verdict: 'unknown' });
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3000);
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });

  it('a flight key with no lifetime (not Signet’s) is given one instead of blocking the binary', async () => {
    const md5 = randomBytes(16).toString('hex');
    await fleet.redis.command('SET', `${fleet.prefix}flight:${md5}`, 'something-else');
    const answer = await lookup(md5);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ verdict: 'unknown' });
  });
});
