import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { DEFAULT_FAULTS, FaultState } from '../../src/simulator/faults.js';
import { samples } from '../../src/simulator/fixtures.js';
import { search, seedQuery, simulator, TOKEN } from './helpers.js';

const seed = seedQuery(samples.signed.md5, samples.signed.name);

describe('FaultState.decide', () => {
  it('never faults by default', () => {
    const state = new FaultState({}, () => 0);
    expect(state.decide().kind).toBe('none');
  });

  it('treats a rate of 1 as always and 0 as never, whatever the draw', () => {
    for (const draw of [0, 0.5, 0.999999]) {
      expect(new FaultState({ errorRate: 1 }, () => draw).decide().kind).toBe('error');
      expect(new FaultState({ errorRate: 0, hangRate: 1 }, () => draw).decide().kind).toBe('hang');
    }
  });

  it('splits the draw between kinds in order: error, hang, reset, malformed, truncated', () => {
    const rates = { errorRate: 0.1, hangRate: 0.1, resetRate: 0.1, malformedRate: 0.1, truncatedRate: 0.1 };
    const kindAt = (draw: number) => new FaultState(rates, () => draw).decide().kind;
    expect([0.05, 0.15, 0.25, 0.35, 0.45, 0.55].map(kindAt)).toEqual(['error', 'hang', 'reset', 'malformed', 'truncated', 'none']);
  });

  it('spends failNext first, then goes back to the rates', () => {
    const state = new FaultState({ failNext: 2, errorStatus: 502 }, () => 0.5);
    expect(state.decide()).toMatchObject({ kind: 'error', status: 502 });
    expect(state.settings.failNext).toBe(1);
    expect(state.decide().kind).toBe('error');
    expect(state.decide().kind).toBe('none');
    expect(state.settings.failNext).toBe(0);
  });

  it('adds jitter from 0 to jitterMs on top of latencyMs', () => {
    expect(new FaultState({ latencyMs: 10, jitterMs: 100 }, () => 0).decide().delayMs).toBe(10);
    expect(new FaultState({ latencyMs: 10, jitterMs: 100 }, () => 0.999999).decide().delayMs).toBe(110);
  });

  it('validates updates and clears back to the defaults', () => {
    const state = new FaultState();
    expect(() => state.set({ errorRate: 1.5 })).toThrow();
    expect(() => state.set({ errorStatus: 404 as never })).toThrow();
    expect(() => state.set({ bogus: 1 } as never)).toThrow();
    state.set({ errorRate: 0.5, retryAfterSeconds: 3 });
    expect(state.settings).toMatchObject({ errorRate: 0.5, retryAfterSeconds: 3 });
    state.set({ retryAfterSeconds: null });
    expect(state.settings).not.toHaveProperty('retryAfterSeconds');
    expect(state.clear()).toEqual(DEFAULT_FAULTS);
  });
});

describe('fault answers', () => {
  let app: SimulatorInstance;
  beforeEach(async () => {
    app = await simulator();
  });
  afterEach(async () => {
    await app.close();
  });

  const cases = [
    { status: 401, type: /^text\/html/, body: '401 Unauthorized' },
    { status: 429, type: /^application\/json/, body: '{"reason":"rate_limited"}' },
    { status: 500, type: /^text\/plain/, body: 'Unhandled exception. Check logs for details.' },
    { status: 502, type: /^text\/html/, body: '502 Bad Gateway' },
    { status: 503, type: /^text\/plain/, body: 'Service' },
    { status: 504, type: /^text\/html/, body: '504 Gateway Time-out' },
  ] as const;

  it.each(cases)('answers $status the way the real thing does', async ({ status, type, body }) => {
    app.simulator.setFaults({ errorRate: 1, errorStatus: status });
    const response = await search(app, { q: seed, rows: 1 });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.body).toContain(body);
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('sends Retry-After with 429 and 503 when retryAfterSeconds is set', async () => {
    for (const status of [429, 503] as const) {
      app.simulator.setFaults({ errorRate: 1, errorStatus: status, retryAfterSeconds: 7 });
      const response = await search(app, { q: seed });
      expect(response.statusCode).toBe(status);
      expect(response.headers['retry-after']).toBe('7');
    }
    app.simulator.setFaults({ errorStatus: 500 });
    expect((await search(app, { q: seed })).headers['retry-after']).toBeUndefined();
  });

  it('failNext fails exactly the next N searches, then they succeed', async () => {
    app.simulator.setFaults({ failNext: 3, errorStatus: 502 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await search(app, { q: seed, rows: 1 })).statusCode);
    expect(statuses).toEqual([502, 502, 502, 200, 200]);
    expect(app.simulator.stats.processSearches).toBe(5);
    expect(app.simulator.faults.failNext).toBe(0);
  });

  it('answers 200 with a body that is not JSON when malformed', async () => {
    app.simulator.setFaults({ malformedRate: 1 });
    const response = await search(app, { q: seed, rows: 1 });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
    expect(response.body.startsWith('{"terms":')).toBe(true);
    expect(() => JSON.parse(response.body)).toThrow();
  });

  it('fails inject() for reset and truncated searches (no socket to cut)', async () => {
    app.simulator.setFaults({ resetRate: 1 });
    await expect(search(app, { q: seed })).rejects.toThrow();
    app.simulator.setFaults({ resetRate: 0, truncatedRate: 1 });
    await expect(search(app, { q: seed })).rejects.toThrow();
    expect(app.simulator.stats.inFlight).toBe(0);
  });

  it('adds latency to searches, the fixed option plus the fault setting', async () => {
    await app.close();
    app = await simulator({ latencyMs: 60, faults: { latencyMs: 60 } });
    const started = performance.now();
    expect((await search(app, { q: seed })).statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('delivers a slow body completely, just late', async () => {
    app.simulator.setFaults({ slowBodyMs: 150 });
    const started = performance.now();
    const response = await search(app, { q: seed, rows: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.statusCode).toBe(200);
    expect(response.json().results).toHaveLength(1);
  });

  it('still answers a syntax error as 400 under malformed, truncated and slow-body faults', async () => {
    app.simulator.setFaults({ malformedRate: 1 });
    const response = await search(app, { q: 'not a query' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ reason: 'query_syntax_error' });
  });

  it('never applies faults to the info and admin endpoints (binary-faults.test.ts covers the binary ones)', async () => {
    app.simulator.setFaults({ errorRate: 1, errorStatus: 500, latencyMs: 10_000 });
    const info = await app.inject({ method: 'GET', url: '/api/info', headers: { 'x-auth-token': TOKEN } });
    expect(info.statusCode).toBe(200);
    const faults = await app.inject({ method: 'GET', url: '/__simulator/faults', headers: { 'x-auth-token': TOKEN } });
    expect(faults.statusCode).toBe(200);
  });

  it('takes initial faults from the options', async () => {
    await app.close();
    app = await simulator({ faults: { errorRate: 1, errorStatus: 504 } });
    expect((await search(app, { q: seed })).statusCode).toBe(504);
    expect(app.simulator.faults).toMatchObject({ errorRate: 1, errorStatus: 504 });
  });

  it('closes promptly with a hung search pending', async () => {
    app.simulator.setFaults({ hangRate: 1 });
    const pending = search(app, { q: seed });
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(1));
    const started = performance.now();
    await app.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
    app = await simulator(); // for afterEach
  });
});

describe('admin endpoints', () => {
  let app: SimulatorInstance;
  beforeEach(async () => {
    app = await simulator();
  });
  afterEach(async () => {
    await app.close();
  });
  const admin = (method: 'GET' | 'PUT' | 'DELETE', payload?: unknown) =>
    app.inject({
      method,
      url: '/__simulator/faults',
      headers: { 'x-auth-token': TOKEN },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('GET shows the current settings', async () => {
    const response = await admin('GET');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(DEFAULT_FAULTS);
  });

  it('PUT applies a partial update and keeps the rest', async () => {
    expect((await admin('PUT', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 2 })).json()).toMatchObject({
      errorRate: 1,
      errorStatus: 429,
      retryAfterSeconds: 2,
    });
    expect((await admin('PUT', { latencyMs: 5 })).json()).toMatchObject({ errorRate: 1, latencyMs: 5 });
    const response = await search(app, { q: seed });
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('2');
  });

  it('PUT rejects bad values and unknown keys with 400 and changes nothing', async () => {
    for (const body of [{ errorRate: 2 }, { errorStatus: 404 }, { latencyMs: -1 }, { hangRate: 'half' }, { surprise: true }, [1]]) {
      const response = await admin('PUT', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().reason).toBe('invalid_faults');
    }
    expect((await admin('GET')).json()).toEqual(DEFAULT_FAULTS);
  });

  it('DELETE clears every fault', async () => {
    await admin('PUT', { errorRate: 1, failNext: 4, slowBodyMs: 10 });
    expect((await admin('DELETE')).json()).toEqual(DEFAULT_FAULTS);
    expect((await search(app, { q: seed })).statusCode).toBe(200);
  });

  it('PUT failNext makes the next searches fail', async () => {
    await admin('PUT', { failNext: 1, errorStatus: 500 });
    expect((await search(app, { q: seed })).statusCode).toBe(500);
    expect((await search(app, { q: seed })).statusCode).toBe(200);
  });
});
