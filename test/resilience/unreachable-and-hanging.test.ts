import { requestCount } from '../support/stack.js';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCarbonBlackClient } from '../../src/backends/edr/client.js';
import { loadConfig } from '../../src/config.js';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { VerdictBody } from './support.js';
import { faultStack, lookup, onCleanup, problemOf, useCleanup, waitFor } from './support.js';

useCleanup();

const TOKEN = 'resilience-down-token';
const { md5: GIT, name: GIT_NAME } = samples.signed;

async function simulatorOn(port: number): Promise<{ simulator: SimulatorInstance; port: number }> {
  const simulator = await buildSimulator({ token: TOKEN });
  await simulator.listen({ host: '127.0.0.1', port });
  onCleanup(() => simulator.close());
  const address = simulator.server.address();
  return { simulator, port: typeof address === 'object' && address !== null ? address.port : port };
}

/** Signet pointed at `port`, with a Carbon Black client that counts every request it is asked to make. */
async function signetOn(port: number, env: Record<string, string>): Promise<{ app: FastifyInstance; attempts: () => number }> {
  const config = loadConfig({ CB_URL: `http://127.0.0.1:${port}`, CB_API_TOKEN: TOKEN, AUTH_DISABLED: 'true', ...env });
  const client = createCarbonBlackClient({
    baseUrl: config.carbonBlack.url,
    token: TOKEN,
    joinField: 'digsig_prog_name',
    timeoutMs: config.carbonBlack.timeoutMs,
  });
  let attempts = 0;
  const app = await buildApp(config, {
    carbonBlack: {
      isSigned: (md5, name, signal) => {
        attempts++;
        return client.isSigned(md5, name, signal);
      },
      binarySummary: (md5, signal) => {
        attempts++;
        return client.binarySummary(md5, signal);
      },
      searchBinaries: (md5s, signal) => {
        attempts++;
        return client.searchBinaries(md5s, signal);
      },
    },
  });
  onCleanup(() => client.close());
  onCleanup(() => app.close());
  return { app, attempts: () => attempts };
}

describe('Carbon Black down (connection refused)', () => {
  it('answers 502 CB_UNREACHABLE after the retries, caches nothing, and recovers once Carbon Black is back', async () => {
    // Take a free port, then close it: connections to it are refused.
    const first = await simulatorOn(0);
    const { port } = first;
    await first.simulator.close();
    // A high breaker threshold keeps this row about retries (the breaker row covers opening).
    const { app, attempts } = await signetOn(port, { CB_RETRIES: '2', CB_BREAKER_THRESHOLD: '100' });

    const down = await app.inject(`/v1/signatures/${GIT}?name=${GIT_NAME}`);
    expect(down.statusCode).toBe(502);
    expect(problemOf(down)).toMatchObject({
      status: 502,
      code: 'CB_UNREACHABLE',
      title: 'Carbon Black is unreachable',
      detail: 'Carbon Black could not be reached; try again later.',
      retryable: true,
    });
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body).not.toContain('"signed"');
    // Connection refused is transient: the first try plus CB_RETRIES retries.
    expect(attempts()).toBe(3);
    expect(app.signatures.stats().size).toBe(0);
    // A refused connection is not a verdict, so a second lookup asks again (nothing negative was cached).
    const stillDown = await app.inject(`/v1/signatures/${GIT}?name=${GIT_NAME}`);
    expect(problemOf(stillDown).code).toBe('CB_UNREACHABLE');
    expect(attempts()).toBe(6);

    const back = await simulatorOn(port);
    const recovered = await app.inject(`/v1/signatures/${GIT}?name=${GIT_NAME}`);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json<VerdictBody>()).toMatchObject({ md5: GIT, signed: true, cache: { hit: false, status: 'miss' } });
    expect(requestCount(back.simulator.simulator.stats)).toBe(1);
    expect(attempts()).toBe(7);
    expect(app.signatures.stats().size).toBe(1);
  });
});

describe('Carbon Black hanging', () => {
  it('answers 504 within the deadline, aborts the hung request, caches nothing, and recovers', async () => {
    const stack = await faultStack({ env: { CB_TIMEOUT_MS: '300', CB_DEADLINE_MS: '1500', CB_RETRIES: '2' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ hangRate: 1 });

    const started = Date.now();
    const hung = await lookup(stack, GIT, GIT_NAME);
    const elapsed = Date.now() - started;
    expect(hung.statusCode).toBe(504);
    // The attempt's own budget (300 ms) runs out first; a timed-out attempt is
    // retried once (a whole attempt still fits in the deadline), never twice.
    expect(problemOf(hung)).toMatchObject({ status: 504, code: 'CB_TIMEOUT', title: 'Carbon Black timed out' });
    expect(elapsed).toBeLessThan(1500 + 1000);
    expect(requestCount(sim.stats)).toBe(2);
    // Signet gave up on the request and closed it: the simulator no longer holds it open.
    await waitFor(() => sim.stats.inFlight === 0, 'the hung search to be aborted');
    expect(stack.app.signatures.stats().size).toBe(0);
    expect(stack.app.upstream.inFlight).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(3);
    expect(stack.app.signatures.stats().size).toBe(1);
  });

  it('answers 504 UPSTREAM_DEADLINE when the lookup deadline is shorter than one attempt, and aborts the request', async () => {
    const stack = await faultStack({ env: { CB_TIMEOUT_MS: '5000', CB_DEADLINE_MS: '400' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ hangRate: 1 });

    const started = Date.now();
    const hung = await lookup(stack, GIT, GIT_NAME);
    expect(Date.now() - started).toBeLessThan(400 + 1000);
    expect(hung.statusCode).toBe(504);
    expect(problemOf(hung)).toMatchObject({ status: 504, code: 'UPSTREAM_DEADLINE', title: 'Carbon Black timed out' });
    expect(requestCount(sim.stats)).toBe(1);
    await waitFor(() => sim.stats.inFlight === 0, 'the hung search to be aborted');
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(2);
  });

  it('lookups queued behind a hung request also end at their deadline (504 UPSTREAM_DEADLINE): the deadline covers queueing', async () => {
    const stack = await faultStack({ env: { CB_MAX_CONCURRENCY: '1', CB_TIMEOUT_MS: '5000', CB_DEADLINE_MS: '500' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ hangRate: 1 });

    const started = Date.now();
    const responses = await Promise.all([
      lookup(stack, samples.signed.md5, samples.signed.name),
      lookup(stack, samples.python.md5, samples.python.name),
      lookup(stack, samples.unsigned.md5, samples.unsigned.name),
    ]);
    // One slot, attempts of up to 5 s: only the shared 500 ms deadline can end all three this soon.
    expect(Date.now() - started).toBeLessThan(500 + 1500);
    for (const response of responses) {
      expect(response.statusCode).toBe(504);
      expect(problemOf(response).code).toBe('UPSTREAM_DEADLINE');
    }
    // The first lookup's request hung; the queued ones got the slot only as their own deadline ran out,
    // so they send nothing (at most a request cut at once if a timer tick separates their deadlines).
    expect(requestCount(sim.stats)).toBeGreaterThanOrEqual(1);
    expect(requestCount(sim.stats)).toBeLessThanOrEqual(3);
    await waitFor(() => sim.stats.inFlight === 0, 'every hung search to be aborted');
    expect(stack.app.upstream.queued).toBe(0);
    expect(stack.app.upstream.inFlight).toBe(0);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    sim.resetStats();
    expect((await lookup(stack, samples.python.md5, samples.python.name)).statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(1);
  });
});
