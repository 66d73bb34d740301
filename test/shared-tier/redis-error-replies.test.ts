import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/** A Redis that answers, but refuses every write (out of memory): lookups answer as without it. */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ replicas: 2 });
  await fleet.redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  await fleet.redis.command('CONFIG', 'SET', 'maxmemory', '1');
});
afterAll(async () => {
  await fleet.redis.command('CONFIG', 'SET', 'maxmemory', '0');
  await fleet.close();
});

const lookup = (replica: number, md5: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });

describe('Redis answering errors', () => {
  it('every lookup answers its verdict, the errors are counted, nothing reaches Redis, and the tier stays up', async () => {
    const cases = [
      { md5: samples.signed.md5, name: samples.signed.name, verdict: 'signed' },
      { md5: samples.unsigned.md5, name: samples.unsigned.name, verdict: 'unsigned' },
      { md5: randomBytes(16).toString('hex'), name: 'tool.exe', verdict: 'unknown' },
    ];
    for (const [i, { md5, name, verdict }] of cases.entries()) {
      const answer = await lookup(i % 2, md5, name);
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ verdict });
    }
    let errors = 0;
    for (const replica of fleet.replicas) errors += await fleet.metric(replica, 'signet_shared_cache_errors_total');
    expect(errors).toBeGreaterThan(0);
    expect(await fleet.redis.command('DBSIZE')).toBe('0');
    // An error reply is an answer: Redis is there, so the tier is not suspended as if it hung.
    expect(fleet.replicas.every((replica) => replica.tier.up)).toBe(true);
  });
});
