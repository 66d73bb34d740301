import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/** Three replicas, one Redis, one simulator: a verdict found by one replica answers the others. */
let fleet: Fleet;
beforeAll(async () => {
  // One md5 per request (no batching): a count of Carbon Black requests is a count of md5s asked.
  fleet = await startFleet({ simulator: { latencyMs: 30 }, env: { CB_BATCH_MAX_HASHES: '1' } });
});
afterAll(() => fleet.close());

const lookup = (replica: number, md5: string, name: string, headers: Record<string, string> = {}) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, headers });

describe('shared verdicts across replicas', () => {
  it('a verdict one replica got from Carbon Black answers the others, with its original storedAt', async () => {
    const { md5, name } = samples.signed;
    const before = fleet.upstreamRequests();
    const first = await lookup(0, md5, name);
    expect(first.statusCode).toBe(200);
    expect(fleet.upstreamRequests()).toBe(before + 1);
    const second = await lookup(1, md5, name);
    const third = await lookup(2, md5, name);
    expect(fleet.upstreamRequests()).toBe(before + 1);
    for (const answer of [second, third]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ verdict: 'signed', signature: first.json().signature });
      expect(answer.json().cache.storedAt).toBe(first.json().cache.storedAt);
      expect(answer.json().cache.expiresAt).toBe(first.json().cache.expiresAt);
    }
    expect(await fleet.metric(fleet.replicas[1]!, 'signet_shared_cache_hits_total')).toBe(1);
  });

  it('200 concurrent lookups of one md5 spread over the replicas make one Carbon Black request', async () => {
    const { md5, name } = samples.unsigned;
    const before = fleet.upstreamRequests();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => lookup(i % 3, md5, name)));
    expect(answers.every((answer) => answer.statusCode === 200 && answer.json().verdict === 'unsigned')).toBe(true);
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });

  it('distinct md5s looked up round-robin cost one Carbon Black request each', async () => {
    const before = fleet.upstreamRequests();
    const md5s = Array.from({ length: 300 }, (_, i) => `e${i.toString(16).padStart(31, '0')}`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(md5s.map((md5, i) => lookup((i + round) % 3, md5, 'tool.exe')));
    }
    expect(fleet.upstreamRequests()).toBe(before + md5s.length);
  });

  it('Cache-Control: no-cache asks Carbon Black again, and the fleet then has the new verdict', async () => {
    const { md5, name } = samples.signed;
    await lookup(0, md5, name);
    const before = fleet.upstreamRequests();
    const fresh = await lookup(1, md5, name, { 'cache-control': 'no-cache' });
    expect(fresh.statusCode).toBe(200);
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });
});
