import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { readUntilCut } from '../body-reading.js';
import { cloudSimulator, JOBS_PATH, LOOKUP_FIELDS, TOKEN } from './helpers.js';

/** Faults that only show on a real connection, over loopback with Node's fetch. */

let app: CloudSimulatorInstance;
let base: string;
beforeEach(async () => {
  app = await cloudSimulator();
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
});

const create = (signal?: AbortSignal) =>
  fetch(`${base}${JOBS_PATH}`, {
    method: 'POST',
    headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify({ query: `process_hash:${cloudFixtures.popular.md5}`, fields: LOOKUP_FIELDS }),
    ...(signal === undefined ? {} : { signal }),
  });
const read = async (id: string, signal?: AbortSignal) =>
  fetch(`${base}${JOBS_PATH}/${id}/results?start=0&rows=2000`, {
    headers: { 'x-auth-token': TOKEN },
    ...(signal === undefined ? {} : { signal }),
  });
const newJob = async (): Promise<string> => ((await (await create()).json()) as { job_id: string }).job_id;

describe('socket faults', () => {
  it('reset: the connection drops without any response', async () => {
    app.cloudSimulator.setFaults({ resetRate: 1 });
    await expect(create()).rejects.toBeInstanceOf(TypeError);
    await vi.waitFor(() => expect(app.cloudSimulator.stats.inFlight).toBe(0));
  });

  it('truncated: a results read promises the whole body, sends half, then closes', async () => {
    const id = await newJob();
    app.cloudSimulator.setFaults({ truncatedRate: 1 });
    const response = await read(id);
    expect(response.status).toBe(200);
    const promised = Number(response.headers.get('content-length'));
    expect(promised).toBeGreaterThan(10_000);
    const { received, failure } = await readUntilCut(response);
    expect(failure).toBeDefined();
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(promised);
  });

  it('hang: no answer until the client gives up; close() cuts the rest', async () => {
    const id = await newJob();
    app.cloudSimulator.setFaults({ hangRate: 1 });
    const started = performance.now();
    await expect(read(id, AbortSignal.timeout(250))).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    await vi.waitFor(() => expect(app.cloudSimulator.stats.inFlight).toBe(0));

    const pending = create().then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(app.cloudSimulator.stats.inFlight).toBe(1));
    const closing = performance.now();
    await app.close();
    expect(performance.now() - closing).toBeLessThan(2000);
    expect(await pending).toBe('failed');
  });

  it('slow body: headers at once, the body over slowBodyMs, intact', async () => {
    const id = await newJob();
    app.cloudSimulator.setFaults({ slowBodyMs: 600 });
    const started = performance.now();
    const response = await read(id);
    const headersAt = performance.now() - started;
    const body = (await response.json()) as { results: unknown[]; num_found: number };
    expect(headersAt).toBeLessThan(400);
    expect(performance.now() - started).toBeGreaterThanOrEqual(580);
    expect(body.results).toHaveLength(2000);
    expect(body.num_found).toBe(cloudFixtures.popular.rows);
  });

  it('counts concurrent requests in peakInFlight, and a client leaving during latency leaves inFlight at once', async () => {
    app.cloudSimulator.setFaults({ latencyMs: 300 });
    await Promise.all([create(), create(), create()]);
    expect(app.cloudSimulator.stats.peakInFlight).toBe(3);
    app.cloudSimulator.setFaults({ latencyMs: 10_000 });
    await expect(create(AbortSignal.timeout(150))).rejects.toThrow();
    await vi.waitFor(() => expect(app.cloudSimulator.stats.inFlight).toBe(0));
  });

  it('error faults arrive intact and the connection stays usable', async () => {
    app.cloudSimulator.setFaults({ failNext: 1, errorStatus: 429, retryAfterSeconds: 1 });
    const limited = await create();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ success: false, message: 'Too many requests' });
    expect((await create()).status).toBe(200);
  });
});
