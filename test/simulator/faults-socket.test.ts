import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { readUntilCut } from './body-reading.js';
import { listen, seedQuery, simulator, TOKEN } from './helpers.js';

/** Faults that only show on a real connection, over loopback with Node's fetch. */

let app: SimulatorInstance;
let base: string;
const url = () => `${base}/api/v1/process?q=${encodeURIComponent(seedQuery(samples.signed.md5, samples.signed.name))}&rows=1`;
const headers = { 'x-auth-token': TOKEN };

beforeEach(async () => {
  app = await simulator();
  base = await listen(app);
});
afterEach(async () => {
  await app.close();
});

describe('socket faults', () => {
  it('reset: the connection drops without any response', async () => {
    app.simulator.setFaults({ resetRate: 1 });
    const error: unknown = await fetch(url(), { headers }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError); // fetch failed
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(0));
    expect(app.simulator.stats.processSearches).toBe(1);
  });

  it('truncated: 200 with the full Content-Length, half the body, then the socket closes', async () => {
    app.simulator.setFaults({ truncatedRate: 1 });
    const response = await fetch(url(), { headers });
    expect(response.status).toBe(200);
    const promised = Number(response.headers.get('content-length'));
    expect(promised).toBeGreaterThan(100);
    const { received, failure } = await readUntilCut(response);
    expect(failure).toBeDefined();
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(promised);
  });

  it('hang: no answer until the client gives up, and the search leaves inFlight then', async () => {
    app.simulator.setFaults({ hangRate: 1 });
    const started = performance.now();
    await expect(fetch(url(), { headers, signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(0));
    expect(app.simulator.stats.peakInFlight).toBe(1);
  });

  it('hang: close() cuts hung searches instead of waiting for them', async () => {
    app.simulator.setFaults({ hangRate: 1 });
    const pending = fetch(url(), { headers }).then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(1));
    const started = performance.now();
    await app.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await pending).toBe('failed');
  });

  it('slow body: headers come at once, the body over slowBodyMs', async () => {
    app.simulator.setFaults({ slowBodyMs: 800 });
    const started = performance.now();
    const response = await fetch(url(), { headers });
    const headersAt = performance.now() - started;
    const body = (await response.json()) as { results: unknown[] };
    const bodyAt = performance.now() - started;
    expect(headersAt).toBeLessThan(500);
    expect(bodyAt).toBeGreaterThanOrEqual(780);
    expect(body.results).toHaveLength(1);
  });

  it('a client that leaves during latency leaves inFlight at once', async () => {
    app.simulator.setFaults({ latencyMs: 10_000 });
    await expect(fetch(url(), { headers, signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await vi.waitFor(() => expect(app.simulator.stats.inFlight).toBe(0));
  });

  it('error statuses arrive intact over a real socket, and the connection stays usable', async () => {
    app.simulator.setFaults({ failNext: 1, errorStatus: 429, retryAfterSeconds: 1 });
    const limited = await fetch(url(), { headers });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ reason: 'rate_limited' });
    const ok = await fetch(url(), { headers });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { results: unknown[] }).results).toHaveLength(1);
  });
});
