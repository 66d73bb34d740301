import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/** When the replica asking Carbon Black fails, the replicas waiting on it answer the same error instead of asking again. */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ env: { CB_RETRIES: '1' }, simulator: { latencyMs: 40 } });
});
afterAll(() => fleet.close());

const lookup = (replica: number, md5: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });

describe('a failed flight', () => {
  it('costs the fleet one lookup’s requests, answers every waiter the same problem, and caches nothing', async () => {
    const { md5, name } = samples.signed;
    fleet.simulator!.simulator.setFaults({ errorRate: 1, errorStatus: 503 });
    const before = fleet.upstreamRequests();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => lookup(i % 3, md5, name)));
    const codes = new Set(answers.map((answer) => `${answer.statusCode} ${answer.json().code}`));
    expect(codes.size).toBe(1);
    expect(answers[0]!.statusCode).toBeGreaterThanOrEqual(500);
    expect(answers[0]!.json().retryable).toBe(true);
    // One flight and its one retry; three replicas asking on their own would have made six.
    expect(fleet.upstreamRequests() - before).toBeLessThanOrEqual(2);

    fleet.simulator!.simulator.clearFaults();
    const after = fleet.upstreamRequests();
    const healed = await lookup(1, md5, name);
    expect(healed.statusCode).toBe(200);
    expect(healed.json()).toMatchObject({ verdict: 'signed' });
    expect(fleet.upstreamRequests()).toBe(after + 1);
  });
});
