import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { MAX_RECORDED } from '../../../src/simulator/cloud/stats.js';
import { admin, cloudSimulator, createJob, jobId, ManualClock, readResults, TOKEN } from './helpers.js';

/** What the simulator counts, live and over /__simulator/stats. */

let app: CloudSimulatorInstance;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  app = await cloudSimulator({ now: clock.now, rateLimit: { limit: 50_000, windowMs: 60_000 } });
});
afterEach(async () => {
  await app.close();
});

const { osBinary, signedVerified, invalid } = cloudFixtures;

describe('stats', () => {
  it('starts at zero', () => {
    expect(app.cloudSimulator.stats).toEqual({
      requests: 0,
      requestsByKind: { createJob: 0, readResults: 0, other: 0 },
      jobsCreated: 0,
      hashesPerJob: [],
      maxHashesPerJob: 0,
      totalHashes: 0,
      queries: [],
      rateLimited: 0,
      rateWindowRequests: 0,
      unauthorized: 0,
      forbidden: 0,
      inFlight: 0,
      peakInFlight: 0,
      faultsInjected: { error: 0, hang: 0, reset: 0, malformed: 0, truncated: 0 },
    });
  });

  it('counts requests by kind, jobs, and the distinct hashes of each job', async () => {
    const three = `process_hash:(${osBinary.md5} OR ${osBinary.md5.toUpperCase()} OR ${signedVerified.sha256} OR ${invalid.md5})`;
    const id = await jobId(app, { query: three });
    await jobId(app, { query: `process_hash:${osBinary.sha256}` });
    await jobId(app, { query: 'process_publisher_state:FILE_SIGNATURE_STATE_SIGNED' });
    await createJob(app, { query: 'not valid' });
    await readResults(app, id);
    await readResults(app, id, '?rows=0');
    await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-auth-token': TOKEN } });
    const stats = app.cloudSimulator.stats;
    expect(stats.requests).toBe(7);
    expect(stats.requestsByKind).toEqual({ createJob: 4, readResults: 2, other: 1 });
    expect(stats.jobsCreated).toBe(3);
    expect(stats.hashesPerJob).toEqual([3, 1, 0]);
    expect(stats.maxHashesPerJob).toBe(3);
    expect(stats.totalHashes).toBe(4);
    expect(stats.queries).toEqual([three, `process_hash:${osBinary.sha256}`, 'process_publisher_state:FILE_SIGNATURE_STATE_SIGNED']);
  });

  it('computes rateWindowRequests when read, as requests age out of the window', async () => {
    await jobId(app, { query: `process_hash:${osBinary.md5}` });
    clock.advance(30_000);
    await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect(app.cloudSimulator.stats.rateWindowRequests).toBe(2);
    clock.advance(30_000);
    expect(app.cloudSimulator.stats.rateWindowRequests).toBe(1);
    expect(JSON.parse(JSON.stringify(app.cloudSimulator.stats))).toMatchObject({ rateWindowRequests: 1 });
  });

  it('keeps the last MAX_RECORDED queries and hash counts', async () => {
    for (let i = 0; i < MAX_RECORDED + 5; i += 1) await jobId(app, { query: `process_name:n${i}` });
    expect(app.cloudSimulator.stats.queries).toHaveLength(MAX_RECORDED);
    expect(app.cloudSimulator.stats.queries[0]).toBe('process_name:n5');
    expect(app.cloudSimulator.stats.hashesPerJob).toHaveLength(MAX_RECORDED);
    expect(app.cloudSimulator.stats.jobsCreated).toBe(MAX_RECORDED + 5);
  }, 60_000);

  it('serves a snapshot over GET /__simulator/stats and zeroes on POST /__simulator/stats/reset', async () => {
    await jobId(app, { query: `process_hash:${osBinary.md5}` });
    await createJob(app, { query: 'x' }, 'bad/token');
    const response = await admin(app, 'GET', '/__simulator/stats');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ requests: 1, jobsCreated: 1, unauthorized: 1, rateWindowRequests: 1, hashesPerJob: [1] });
    // The admin read itself is not an API request.
    expect(app.cloudSimulator.stats.requests).toBe(1);

    const held = app.cloudSimulator.stats;
    const reset = await admin(app, 'POST', '/__simulator/stats/reset');
    expect(reset.json()).toMatchObject({ requests: 0, jobsCreated: 0, unauthorized: 0, queries: [], hashesPerJob: [] });
    expect(held.jobsCreated).toBe(0);
    // The rate window is the limiter's, not a counter: a reset does not forgive requests.
    expect(held.rateWindowRequests).toBe(1);
    app.cloudSimulator.resetStats();
    expect(app.cloudSimulator.stats.requests).toBe(0);
  });
});
