import { requestCount } from '../support/stack.js';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { populationIsSigned, populationMd5, populationName } from '../../src/simulator/population.js';
import type { VerdictBody } from './support.js';
import { batch, faultStack, lookup, problemOf, useCleanup, waitFor } from './support.js';

useCleanup();

const { md5: GIT, name: GIT_NAME } = samples.signed;

/**
 * A GET over a fresh connection that closes after the answer (no keep-alive
 * socket left to hold up the server's close), abortable like a caller hanging up.
 */
function httpGet(url: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' }, ...(signal && { signal }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('queue full', () => {
  it('with every slot busy and the queue full, a lookup is refused at once with 503 UPSTREAM_QUEUE_FULL and Retry-After', async () => {
    const stack = await faultStack({
      // One md5 per request, so each lookup takes its own queue place (a batch takes one for all its misses).
      env: { CB_MAX_CONCURRENCY: '1', CB_MAX_QUEUE: '1', CB_BATCH_MAX_HASHES: '1' },
      simulator: { latencyMs: 500 },
    });
    const sim = stack.simulator.simulator;
    const settled: string[] = [];
    const track = (label: string, response: ReturnType<typeof lookup>) =>
      response.then((r) => {
        settled.push(label);
        return r;
      });

    const first = track('first', lookup(stack, samples.signed.md5, samples.signed.name));
    const second = track('second', lookup(stack, samples.python.md5, samples.python.name));
    await waitFor(() => stack.app.upstream.inFlight === 1 && stack.app.upstream.queued === 1, 'one lookup running and one queued');

    const third = await track('third', lookup(stack, samples.unsigned.md5, samples.unsigned.name));
    expect(third.statusCode).toBe(503);
    expect(problemOf(third)).toMatchObject({ status: 503, code: 'UPSTREAM_QUEUE_FULL', title: 'Signet is at its Carbon Black capacity' });
    expect(third.headers['retry-after']).toBe('1');
    // Refused at once: the two admitted lookups are still waiting for Carbon Black.
    expect(settled).toEqual(['third']);

    const [a, b] = await Promise.all([first, second]);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(a.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(b.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    // The refused lookup never reached Carbon Black, and nothing was cached for it.
    expect(requestCount(sim.stats)).toBe(2);
    expect(sim.stats.peakInFlight).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(2);

    // Capacity is back: the refused lookup now succeeds.
    const retried = await lookup(stack, samples.unsigned.md5, samples.unsigned.name);
    expect(retried.statusCode).toBe(200);
    expect(retried.json<VerdictBody>()).toMatchObject({ signed: false, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(3);
  });

  it('a batch that overflows the queue reports the refused items in place (error.status 503) and answers the rest', async () => {
    const stack = await faultStack({
      // One md5 per request, so each lookup takes its own queue place (a batch takes one for all its misses).
      env: { CB_MAX_CONCURRENCY: '1', CB_MAX_QUEUE: '1', CB_BATCH_MAX_HASHES: '1' },
      simulator: { latencyMs: 100 },
    });
    const sim = stack.simulator.simulator;
    const items = [samples.signed, samples.python, samples.unsigned, samples.codeHelper].map(({ md5, name }) => ({ md5, name }));

    const response = await batch(stack, items);
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<Record<string, unknown>> }>();
    expect(results).toHaveLength(4);
    // Lookups start in request order: the first takes the slot, the second the queue place.
    expect(results[0]).toMatchObject({ md5: samples.signed.md5, signed: true, cache: { status: 'miss' } });
    expect(results[1]).toMatchObject({ md5: samples.python.md5, signed: true, cache: { status: 'miss' } });
    for (const refused of results.slice(2)) {
      expect(refused).toMatchObject({
        error: { status: 503, code: 'UPSTREAM_QUEUE_FULL', title: 'Signet is at its Carbon Black capacity' },
      });
      expect(refused).not.toHaveProperty('signed');
    }
    expect(requestCount(sim.stats)).toBe(2);
    expect(stack.app.signatures.stats().size).toBe(2);

    // The refused items go through once there is room.
    const again = await batch(stack, items.slice(2));
    const retried = again.json<{ results: Array<Record<string, unknown>> }>().results;
    expect(retried.map((r) => (r.cache as { status: string }).status)).toEqual(['miss', 'miss']);
    expect(requestCount(sim.stats)).toBe(4);
  });
});

describe('coalescing', () => {
  it('200 concurrent lookups of one uncached md5 make exactly 1 upstream request: 1 miss, 199 coalesced, one verdict', async () => {
    // Latency keeps the one search open while all 200 lookups arrive.
    const stack = await faultStack({ simulator: { latencyMs: 500 } });
    const sim = stack.simulator.simulator;

    const responses = await Promise.all(Array.from({ length: 200 }, () => lookup(stack, GIT, GIT_NAME)));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    const bodies = responses.map((r) => r.json<VerdictBody>());
    expect(new Set(bodies.map((b) => b.signed))).toEqual(new Set([true]));
    expect(new Set(bodies.map((b) => b.cache.storedAt)).size).toBe(1);
    const statuses = bodies.map((b) => b.cache.status);
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'coalesced')).toHaveLength(199);
    expect(responses.every((r) => r.headers['x-cache'] === 'MISS')).toBe(true);
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(1);
  });

  it('Cache-Control: no-cache forces a refresh, but two concurrent ones share it (1 request)', async () => {
    const stack = await faultStack({ simulator: { latencyMs: 300 } });
    const sim = stack.simulator.simulator;
    await lookup(stack, GIT, GIT_NAME);
    expect(requestCount(sim.stats)).toBe(1);

    const noCache = { 'cache-control': 'no-cache' };
    const [a, b] = await Promise.all([lookup(stack, GIT, GIT_NAME, noCache), lookup(stack, GIT, GIT_NAME, noCache)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect([a.json<VerdictBody>().cache.status, b.json<VerdictBody>().cache.status].sort()).toEqual(['coalesced', 'miss']);
    expect(requestCount(sim.stats)).toBe(2);
    // A plain lookup afterwards is a hit on the refreshed entry.
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache.status).toBe('hit');
    expect(requestCount(sim.stats)).toBe(2);
  });

  it('a caller that disconnects does not cancel the upstream request another caller is waiting on', async () => {
    const stack = await faultStack({ simulator: { latencyMs: 600 } });
    const sim = stack.simulator.simulator;
    const service = stack.app.signatures;
    // Count lookups that reach the service's load, to know when the second caller has joined the shared one.
    let lookups = 0;
    const original = service.load.bind(service);
    service.load = (...args) => {
      lookups++;
      return original(...args);
    };
    const base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${base}/v1/signatures/${GIT}?name=${GIT_NAME}`;

    const leaving = new AbortController();
    const first = httpGet(url, leaving.signal);
    await waitFor(() => sim.stats.inFlight === 1, 'the first caller’s upstream request');
    const second = httpGet(url);
    await waitFor(() => lookups === 2, 'the second caller to join');

    leaving.abort();
    await expect(first).rejects.toThrow(/abort/i);

    const response = await second;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ md5: GIT, signed: true, cache: { status: 'coalesced' } });
    // One request, and it ran to completion: its verdict is cached.
    expect(requestCount(sim.stats)).toBe(1);
    expect(sim.stats.inFlight).toBe(0);
    expect(service.stats().size).toBe(1);
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache.status).toBe('hit');
    expect(requestCount(sim.stats)).toBe(1);
  });
});

describe('many distinct misses', () => {
  it('1000 distinct uncached md5s in one batch share binary searches of up to 50, never more than CB_MAX_CONCURRENCY in flight, and all succeed', async () => {
    const stack = await faultStack({
      env: { CB_MAX_CONCURRENCY: '8', CB_MAX_QUEUE: '1000' },
      // Enough latency for the 8 slots to fill; the run is CPU-bound beyond that.
      simulator: { population: 2000, latencyMs: 10 },
    });
    const sim = stack.simulator.simulator;
    const indexes = Array.from({ length: 1000 }, (_, k) => k * 2);
    const items = indexes.map((i) => ({ md5: populationMd5(i), name: populationName(i) }));

    const response = await batch(stack, items);
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<{ md5: string; signed?: boolean; error?: unknown; cache?: { status: string } }> }>();
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.map((r) => r.md5)).toEqual(items.map((item) => item.md5));
    expect(results.map((r) => r.signed)).toEqual(indexes.map((i) => populationIsSigned(i)));
    expect(results.every((r) => r.cache?.status === 'miss')).toBe(true);
    // Misses batch (CB_BATCH_MAX_HASHES 50): 20 full searches, a few more if a slot sealed a batch early.
    expect(requestCount(sim.stats)).toBeGreaterThanOrEqual(20);
    expect(requestCount(sim.stats)).toBeLessThanOrEqual(28);
    expect(sim.stats.peakInFlight).toBeLessThanOrEqual(8);
    // It did use the concurrency it was given.
    expect(sim.stats.peakInFlight).toBeGreaterThan(1);
    expect(stack.app.signatures.stats().size).toBe(1000);
  });
});
