import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { binarySearch, get, listen, search, seedQuery, simulator, summary, TOKEN } from './helpers.js';

/** The process-search faults apply to the binary endpoints too, from the same settings and the same draws. */

const seed = seedQuery(samples.signed.md5, samples.signed.name);
const binaryQ = `md5:${samples.signed.md5}`;

let app: SimulatorInstance;
beforeEach(async () => {
  app = await simulator();
});
afterEach(async () => {
  await app.close();
});

const binaryRequests = {
  summary: () => summary(app, samples.signed.md5),
  'binary search': () => binarySearch(app, { q: binaryQ }),
  'binary search (POST)': () =>
    app.inject({ method: 'POST', url: '/api/v1/binary', headers: { 'x-auth-token': TOKEN }, payload: { q: [binaryQ] } }),
};

describe.each(Object.entries(binaryRequests))('faults on the %s', (_kind, request) => {
  it.each([
    { status: 429, type: /^application\/json/, body: '{"reason":"rate_limited"}' },
    { status: 500, type: /^text\/plain/, body: 'Unhandled exception. Check logs for details.' },
    { status: 502, type: /^text\/html/, body: '502 Bad Gateway' },
    { status: 503, type: /^text\/plain/, body: 'Service' },
    { status: 504, type: /^text\/html/, body: '504 Gateway Time-out' },
    { status: 401, type: /^text\/html/, body: '401 Unauthorized' },
  ] as const)('answers error status $status like the real thing', async ({ status, type, body }) => {
    app.simulator.setFaults({ errorRate: 1, errorStatus: status, retryAfterSeconds: 2 });
    const response = await request();
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.body).toContain(body);
    expect(response.headers['retry-after']).toBe(status === 429 || status === 503 ? '2' : undefined);
  });

  it('answers 200 with a body that is not JSON when malformed', async () => {
    app.simulator.setFaults({ malformedRate: 1 });
    const response = await request();
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
    expect(response.body.startsWith('{"')).toBe(true);
    expect(() => JSON.parse(response.body)).toThrow();
  });

  it('fails inject() when reset or truncated', async () => {
    app.simulator.setFaults({ resetRate: 1 });
    await expect(request()).rejects.toThrow();
    app.simulator.setFaults({ resetRate: 0, truncatedRate: 1 });
    await expect(request()).rejects.toThrow();
    expect(app.simulator.stats.inFlight).toBe(0);
  });

  it('adds the fixed and the fault latency', async () => {
    await app.close();
    app = await simulator({ latencyMs: 60, faults: { latencyMs: 60 } });
    const started = performance.now();
    expect((await request()).statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('hangs until the server closes, and close() cuts it', async () => {
    app.simulator.setFaults({ hangRate: 1 });
    const pending = request();
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(1));
    const started = performance.now();
    await app.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
    app = await simulator(); // for afterEach
  });

  it('delivers a slow body completely, just late', async () => {
    app.simulator.setFaults({ slowBodyMs: 150 });
    const started = performance.now();
    const response = await request();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toBeTypeOf('object');
  });
});

describe('one shared fault state', () => {
  it('spends failNext across process searches and binary requests, in arrival order', async () => {
    app.simulator.setFaults({ failNext: 3, errorStatus: 502 });
    const statuses: number[] = [];
    statuses.push((await search(app, { q: seed })).statusCode);
    statuses.push((await summary(app, samples.signed.md5)).statusCode);
    statuses.push((await binarySearch(app, { q: binaryQ })).statusCode);
    statuses.push((await summary(app, samples.signed.md5)).statusCode);
    statuses.push((await binarySearch(app, { q: binaryQ })).statusCode);
    statuses.push((await search(app, { q: seed })).statusCode);
    expect(statuses).toEqual([502, 502, 502, 200, 200, 200]);
    expect(app.simulator.faults.failNext).toBe(0);
    expect(app.simulator.stats).toMatchObject({ processSearches: 2, binaryReads: 2, binarySearches: 2 });
  });

  it('draws once per request, whatever its kind', async () => {
    await app.close();
    const draws = [0.1, 0.9, 0.1, 0.9, 0.9, 0.1];
    let next = 0;
    app = await simulator({ faults: { errorRate: 0.5, errorStatus: 500 }, random: () => draws[next++] ?? 0.9 });
    const statuses = [
      (await search(app, { q: seed })).statusCode,
      (await summary(app, samples.signed.md5)).statusCode,
      (await binarySearch(app, { q: binaryQ })).statusCode,
      (await summary(app, samples.signed.md5)).statusCode,
      (await search(app, { q: seed })).statusCode,
      (await summary(app, samples.signed.md5)).statusCode,
    ];
    expect(statuses).toEqual([500, 200, 500, 200, 200, 500]);
    expect(next).toBe(draws.length);
  });

  it('leaves a 404 (unseen md5) and a 400 (bad binary query) as they are under malformed and slow-body faults', async () => {
    app.simulator.setFaults({ malformedRate: 1, slowBodyMs: 50 });
    const missing = await summary(app, samples.unseen.md5);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('404 Not Found');
    const bad = await binarySearch(app, { q: 'process_name:git' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ reason: 'query_syntax_error' });
  });

  it('the download is faulted too (one draw), while info and admin endpoints never are', async () => {
    app.simulator.setFaults({ failNext: 1, errorStatus: 503 });
    expect((await get(app, '/api/info')).statusCode).toBe(200);
    expect((await get(app, '/__simulator/faults')).statusCode).toBe(200);
    expect((await get(app, `/api/v1/binary/${samples.signed.md5}`)).statusCode).toBe(503);
    expect((await get(app, `/api/v1/binary/${samples.signed.md5}`)).statusCode).toBe(404);
  });
});

describe('socket faults on binary requests', () => {
  it('reset drops a summary read without a response, over a real socket', async () => {
    const base = await listen(app);
    app.simulator.setFaults({ resetRate: 1 });
    const error: unknown = await fetch(`${base}/api/v1/binary/${samples.signed.md5}/summary`, { headers: { 'x-auth-token': TOKEN } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(0));
    expect(app.simulator.stats.binaryReads).toBe(1);
  });

  it('truncated: a binary search gets the full Content-Length and half the body', async () => {
    const base = await listen(app);
    app.simulator.setFaults({ truncatedRate: 1 });
    const response = await fetch(`${base}/api/v1/binary?q=${encodeURIComponent(binaryQ)}`, { headers: { 'x-auth-token': TOKEN } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});
