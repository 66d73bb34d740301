import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { CloudFaultState } from '../../../src/simulator/cloud/faults.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { admin, cloudSimulator, createJob, jobId, ManualClock, readResults, resultsJson } from './helpers.js';

/** Fault injection: the shared EDR settings with Cloud's answers, the job faults, and the admin endpoints. */

const query = { query: `process_hash:${cloudFixtures.osBinary.md5}` };

describe('CloudFaultState', () => {
  it('has the EDR settings without blockJoins, plus the job faults', () => {
    const state = new CloudFaultState();
    expect(state.settings).toEqual({
      latencyMs: 0,
      jitterMs: 0,
      errorRate: 0,
      errorStatus: 503,
      hangRate: 0,
      resetRate: 0,
      malformedRate: 0,
      truncatedRate: 0,
      slowBodyMs: 0,
      failNext: 0,
      jobNeverCompletes: false,
    });
    expect(() => state.set({ blockJoins: true } as never)).toThrow();
  });

  it('validates a whole update before applying any of it', () => {
    const state = new CloudFaultState();
    expect(() => state.set({ errorRate: 0.5, jobDurationMs: -1 })).toThrow();
    expect(state.settings.errorRate).toBe(0);
    state.set({ jobDurationMs: 50, jobNeverCompletes: true, retryAfterSeconds: 2 });
    expect(state.settings).toMatchObject({ jobDurationMs: 50, jobNeverCompletes: true, retryAfterSeconds: 2 });
    expect(state.jobFaults()).toEqual({ durationMs: 50, neverCompletes: true });
    state.set({ jobDurationMs: null, retryAfterSeconds: null });
    expect(state.settings).not.toHaveProperty('jobDurationMs');
    expect(state.settings).not.toHaveProperty('retryAfterSeconds');
    state.clear();
    expect(state.jobFaults()).toEqual({ durationMs: undefined, neverCompletes: false });
  });

  it('draws with the shared rules: failNext first, then one draw over the rates', () => {
    const state = new CloudFaultState({ failNext: 1, malformedRate: 1 }, () => 0.5);
    expect(state.decide()).toMatchObject({ kind: 'error' });
    expect(state.decide()).toMatchObject({ kind: 'malformed' });
    expect(state.decide()).not.toHaveProperty('blockJoins');
  });
});

describe('faults over inject()', () => {
  let app: CloudSimulatorInstance;
  beforeEach(async () => {
    app = await cloudSimulator();
  });
  afterEach(async () => {
    await app.close();
  });

  it.each([
    [401, /^application\/json/, { success: false }],
    [429, /^application\/json/, { success: false, message: 'Too many requests' }],
    [500, /^application\/json/, { error_code: 'INTERNAL_SERVER_ERROR' }],
  ] as const)('an injected %i looks like Cloud JSON', async (status, type, body) => {
    app.cloudSimulator.setFaults({ errorRate: 1, errorStatus: status });
    const response = await createJob(app, query);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.json()).toMatchObject(body);
    expect(response.headers).not.toHaveProperty('retry-after');
  });

  it.each([502, 503, 504] as const)('an injected %i is the load balancer HTML page', async (status) => {
    app.cloudSimulator.setFaults({ errorRate: 1, errorStatus: status });
    const response = await createJob(app, query);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('text/html');
    expect(response.body).toContain(`<title>${status} `);
  });

  it('sends Retry-After with injected 429 and 503 only when retryAfterSeconds is set', async () => {
    app.cloudSimulator.setFaults({ failNext: 3, errorStatus: 429, retryAfterSeconds: 7 });
    expect((await createJob(app, query)).headers['retry-after']).toBe('7');
    app.cloudSimulator.setFaults({ errorStatus: 503 });
    expect((await createJob(app, query)).headers['retry-after']).toBe('7');
    app.cloudSimulator.setFaults({ errorStatus: 502 });
    expect((await createJob(app, query)).headers).not.toHaveProperty('retry-after');
  });

  it('spends failNext on job creations and results reads alike, in arrival order, one draw each', async () => {
    const id = await jobId(app, query);
    app.cloudSimulator.setFaults({ failNext: 2, errorStatus: 502 });
    expect((await readResults(app, id)).statusCode).toBe(502);
    expect((await createJob(app, query)).statusCode).toBe(502);
    expect((await readResults(app, id)).statusCode).toBe(200);
    expect(app.cloudSimulator.faults.failNext).toBe(0);
    expect(app.cloudSimulator.stats.faultsInjected.error).toBe(2);
  });

  it('draws before the body is read: an error fault pre-empts a 400, and creates no job', async () => {
    app.cloudSimulator.setFaults({ failNext: 1, errorStatus: 500 });
    expect((await createJob(app, { query: 'bad query' })).statusCode).toBe(500);
    expect((await createJob(app, { query: 'bad query' })).statusCode).toBe(400);
    expect(app.cloudSimulator.stats.jobsCreated).toBe(0);
  });

  it('draws after the gate: unauthorized, rate-limited and wrong-org requests spend nothing', async () => {
    app.cloudSimulator.setFaults({ failNext: 1 });
    expect((await createJob(app, query, 'bad/token')).statusCode).toBe(401);
    expect(app.cloudSimulator.faults.failNext).toBe(1);
  });

  it('malformed: a 200 with half the body, never valid JSON; the job is still created', async () => {
    app.cloudSimulator.setFaults({ malformedRate: 1 });
    const response = await createJob(app, query);
    expect(response.statusCode).toBe(200);
    expect(() => JSON.parse(response.body) as unknown).toThrow();
    expect(response.body.startsWith('{"job_id":"')).toBe(true);
    expect(app.cloudSimulator.stats.jobsCreated).toBe(1);
    expect(app.cloudSimulator.stats.faultsInjected.malformed).toBe(1);
  });

  it('malformed, truncated and slow bodies leave a 400 or a 404 alone', async () => {
    app.cloudSimulator.setFaults({ malformedRate: 1 });
    const bad = await createJob(app, { query: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error_code: 'INVALID_QUERY' });
    const unknown = await readResults(app, 'unknown');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error_code: 'NOT_FOUND' });
  });

  it('reset and truncated make inject() fail (there is no socket)', async () => {
    app.cloudSimulator.setFaults({ resetRate: 1 });
    await expect(createJob(app, query)).rejects.toThrow();
    app.cloudSimulator.setFaults({ resetRate: 0, truncatedRate: 1 });
    await expect(createJob(app, query)).rejects.toThrow();
    expect(app.cloudSimulator.stats.faultsInjected).toMatchObject({ reset: 1, truncated: 1 });
  });

  it('adds latency and jitter to every API request', async () => {
    app.cloudSimulator.setFaults({ latencyMs: 80, jitterMs: 20 });
    const started = performance.now();
    await createJob(app, query);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
  });
});

describe('job faults', () => {
  let app: CloudSimulatorInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('jobDurationMs overrides the duration of jobs created while it is set, and only those', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, jobDurationMs: 1000 });
    const normal = await jobId(app, query);
    app.cloudSimulator.setFaults({ jobDurationMs: 10_000 });
    const slow = await jobId(app, query);
    app.cloudSimulator.setFaults({ jobDurationMs: null });
    clock.advance(1000);
    expect((await resultsJson(app, normal)).completed).toBe(45);
    expect((await resultsJson(app, slow)).completed).toBe(4); // floor(45 * 1000 / 10000)
    clock.advance(9000);
    expect((await resultsJson(app, slow)).completed).toBe(45);
  });

  it('jobNeverCompletes: contacted 45, completed stops at 44 forever, no results', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, jobDurationMs: 100, faults: { jobNeverCompletes: true } });
    const stuck = await jobId(app, query);
    app.cloudSimulator.clearFaults();
    const fine = await jobId(app, query);
    // Twenty minutes on (jobs live thirty).
    clock.advance(20 * 60_000);
    const page = await resultsJson(app, stuck);
    expect(page).toMatchObject({ contacted: 45, completed: 44, results: [] });
    expect(page).not.toHaveProperty('message');
    expect((await resultsJson(app, fine)).completed).toBe(45);
    // A test can still force it.
    app.cloudSimulator.completeJob(stuck);
    expect((await resultsJson(app, stuck)).completed).toBe(45);
  });
});

describe('admin fault endpoints', () => {
  let app: CloudSimulatorInstance;
  beforeEach(async () => {
    app = await cloudSimulator({ faults: { latencyMs: 5 } });
  });
  afterEach(async () => {
    await app.close();
  });

  it('GET reads, PUT updates partly, DELETE clears to no faults', async () => {
    expect((await admin(app, 'GET', '/__simulator/faults')).json()).toMatchObject({ latencyMs: 5, jobNeverCompletes: false });
    const put = await admin(app, 'PUT', '/__simulator/faults', { errorRate: 0.5, jobNeverCompletes: true, jobDurationMs: 20 });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ latencyMs: 5, errorRate: 0.5, jobNeverCompletes: true, jobDurationMs: 20 });
    expect(app.cloudSimulator.faults).toMatchObject({ errorRate: 0.5 });
    const cleared = await admin(app, 'DELETE', '/__simulator/faults');
    expect(cleared.json()).toMatchObject({ latencyMs: 0, errorRate: 0, jobNeverCompletes: false });
    expect(cleared.json()).not.toHaveProperty('jobDurationMs');
  });

  it('PUT refuses bad values, unknown keys and non-JSON with 400 invalid_faults, changing nothing', async () => {
    for (const payload of [{ errorRate: 2 }, { errorStatus: 404 }, { blockJoins: true }, { jobDurationMs: 'soon' }, { bogus: 1 }]) {
      const response = await admin(app, 'PUT', '/__simulator/faults', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ reason: 'invalid_faults' });
    }
    const notJson = await app.inject({
      method: 'PUT',
      url: '/__simulator/faults',
      headers: { 'x-auth-token': app.cloudSimulator.authToken, 'content-type': 'application/json' },
      payload: '{nope',
    });
    expect(notJson.statusCode).toBe(400);
    expect(app.cloudSimulator.faults).toMatchObject({ latencyMs: 5, errorRate: 0 });
    // An empty PUT changes nothing and answers the settings.
    expect(
      (await app.inject({ method: 'PUT', url: '/__simulator/faults', headers: { 'x-auth-token': app.cloudSimulator.authToken } })).json(),
    ).toMatchObject({
      latencyMs: 5,
    });
  });
});
