import { afterEach, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { CONTACTED, JOB_TTL_MS, MAX_JOBS, NO_DATA_MESSAGE } from '../../../src/simulator/cloud/jobs.js';
import { cloudSimulator, jobId, LOOKUP_FIELDS, ManualClock, readResults, resultsJson } from './helpers.js';

/** A job's life: created, in progress, complete, expired. Time is a hand-driven clock. */

let app: CloudSimulatorInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const { popular, osBinary } = cloudFixtures;
const ENVELOPE_KEYS = ['approximate_unaggregated', 'completed', 'contacted', 'num_aggregated', 'num_available', 'num_found', 'results'];

describe('search job progress', () => {
  it('answers a job id, a uuid', async () => {
    app = await cloudSimulator();
    const id = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await jobId(app, { query: `process_hash:${osBinary.md5}` })).not.toBe(id);
  });

  it('reports contacted 45 at once and completed rising to it over the job duration, results only at the end', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, jobDurationMs: 1000 });
    const id = await jobId(app, { query: `process_hash:${popular.sha256}`, fields: LOOKUP_FIELDS });

    const first = await resultsJson(app, id, '?start=0&rows=10');
    expect(Object.keys(first).sort()).toEqual(ENVELOPE_KEYS);
    expect(first).toMatchObject({ contacted: CONTACTED, completed: 0, results: [], num_found: 0, num_available: 0 });

    clock.advance(400);
    const partial = await resultsJson(app, id, '?start=0&rows=10');
    expect(partial.contacted).toBe(45);
    expect(partial.completed).toBe(18); // floor(45 * 0.4)
    expect(partial.results).toEqual([]);
    // A partial count, the same share of the total.
    expect(partial.num_found).toBe(Math.floor((popular.rows * 18) / 45));
    expect(partial.num_available).toBe(partial.num_found);

    clock.advance(599);
    expect((await resultsJson(app, id, '?rows=0')).completed).toBe(44);

    clock.advance(1);
    const done = await resultsJson(app, id, '?start=0&rows=10');
    expect(done).toMatchObject({ contacted: 45, completed: 45, num_found: popular.rows, num_available: popular.rows });
    expect(done.approximate_unaggregated).toBe(popular.rows);
    expect(done.num_aggregated).toBe(popular.rows);
    expect(done.results).toHaveLength(10);
    expect(done).not.toHaveProperty('message');
  });

  it('refuses a jobDurationMs that is not an integer from 0 to an hour', async () => {
    for (const jobDurationMs of [-1, 1.5, 3_600_001]) await expect(cloudSimulator({ jobDurationMs })).rejects.toThrow(RangeError);
  });

  it('completes at once with jobDurationMs 0', async () => {
    app = await cloudSimulator({ jobDurationMs: 0 });
    const id = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect(await resultsJson(app, id)).toMatchObject({ completed: 45, num_found: osBinary.rows });
  });

  it('completes on a real clock after the configured duration', async () => {
    app = await cloudSimulator({ jobDurationMs: 120 });
    const id = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    const early = await resultsJson(app, id);
    expect(early.completed).toBeLessThan(45);
    await new Promise((resolve) => setTimeout(resolve, 160));
    expect(await resultsJson(app, id)).toMatchObject({ completed: 45, num_found: osBinary.rows });
  });

  it('says "No data available" once a job that found nothing is complete, not before', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, jobDurationMs: 100 });
    const id = await jobId(app, { query: 'process_hash:00000000000000000000000000000000' });
    expect(await resultsJson(app, id)).not.toHaveProperty('message');
    clock.advance(100);
    expect(await resultsJson(app, id)).toEqual({
      results: [],
      num_found: 0,
      num_available: 0,
      approximate_unaggregated: 0,
      num_aggregated: 0,
      contacted: 45,
      completed: 45,
      message: NO_DATA_MESSAGE,
    });
    expect(NO_DATA_MESSAGE).toContain('No data available');
  });
});

describe('unknown, expired and steered jobs', () => {
  it('answers 404 JSON for an unknown or malformed job id', async () => {
    app = await cloudSimulator();
    for (const id of ['2c292717-80ed-4f0d-845f-779e09470920', 'not-a-uuid']) {
      const response = await readResults(app, id);
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toMatchObject({ error_code: 'NOT_FOUND' });
    }
  });

  it('forgets a job JOB_TTL_MS after its creation', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now });
    const id = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    clock.advance(JOB_TTL_MS - 1);
    expect((await readResults(app, id)).statusCode).toBe(200);
    clock.advance(1);
    expect((await readResults(app, id)).statusCode).toBe(404);
    expect(app.cloudSimulator.jobCount).toBe(0);
  });

  it('keeps at most MAX_JOBS, dropping the oldest', async () => {
    app = await cloudSimulator({ rateLimit: { limit: 2 * MAX_JOBS } });
    const first = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    for (let i = 1; i < MAX_JOBS; i += 1) await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect(app.cloudSimulator.jobCount).toBe(MAX_JOBS);
    expect((await readResults(app, first)).statusCode).toBe(200);
    await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect(app.cloudSimulator.jobCount).toBe(MAX_JOBS);
    expect((await readResults(app, first)).statusCode).toBe(404);
  }, 60_000);

  it('completeJob and expireJob steer a job for a test', async () => {
    app = await cloudSimulator({ jobDurationMs: 3_600_000 });
    const id = await jobId(app, { query: `process_hash:${osBinary.md5}` });
    expect((await resultsJson(app, id)).completed).toBe(0);
    expect(app.cloudSimulator.completeJob(id)).toBe(true);
    expect(await resultsJson(app, id)).toMatchObject({ completed: 45, num_found: osBinary.rows });
    expect(app.cloudSimulator.expireJob(id)).toBe(true);
    expect((await readResults(app, id)).statusCode).toBe(404);
    expect(app.cloudSimulator.completeJob(id)).toBe(false);
    expect(app.cloudSimulator.expireJob(id)).toBe(false);
  });
});
