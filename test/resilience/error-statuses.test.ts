import { requestCount } from '../support/stack.js';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { VerdictBody } from './support.js';
import { faultStack, lookup, problemOf, useCleanup } from './support.js';

useCleanup();

const { md5: GIT, name: GIT_NAME } = samples.signed;

/**
 * Carbon Black answering with an error status. Only transient failures are
 * retried (connection errors and resets, 429, 502, 503, 504); a 500 is an
 * application error on Carbon Black's side that a retry would not fix, and a
 * 401 needs an operator. A high breaker threshold keeps these rows about
 * retries; the breaker has its own file.
 */
const env = { CB_RETRIES: '2', CB_BREAKER_THRESHOLD: '100' };

describe('5xx from Carbon Black', () => {
  it.each([502, 503, 504] as const)(
    '%i is retried (CB_RETRIES 2: 3 requests), then answers 502 CB_SERVER_ERROR; nothing is cached',
    async (status) => {
      const stack = await faultStack({ env });
      const sim = stack.simulator.simulator;
      sim.setFaults({ errorRate: 1, errorStatus: status });

      const failed = await lookup(stack, GIT, GIT_NAME);
      expect(failed.statusCode).toBe(502);
      expect(problemOf(failed)).toMatchObject({
        status: 502,
        code: 'CB_SERVER_ERROR',
        title: 'Carbon Black answered with a server error',
        detail: `Carbon Black answered ${status}; try again later.`,
        type: 'urn:signet:problem:cb-server-error',
        retryable: true,
      });
      // Signet already retried with backoff: the caller is told to wait a little before trying again.
      expect(failed.headers['retry-after']).toBe('5');
      // Carbon Black's own error page never reaches the caller.
      expect(failed.body).not.toMatch(/nginx|<html|Service Temporarily Unavailable/i);
      expect(requestCount(sim.stats)).toBe(3);
      expect(stack.app.signatures.stats().size).toBe(0);

      sim.clearFaults();
      const recovered = await lookup(stack, GIT, GIT_NAME);
      expect(recovered.statusCode).toBe(200);
      expect(recovered.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
      expect(requestCount(sim.stats)).toBe(4);
      expect(stack.app.signatures.stats().size).toBe(1);
    },
  );

  it.each([502, 503, 504] as const)('two %i answers then success: the caller gets 200 after 3 requests', async (status) => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ failNext: 2, errorStatus: status });

    const response = await lookup(stack, GIT, GIT_NAME);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json<VerdictBody>()).toMatchObject({ md5: GIT, signed: true, cache: { hit: false, status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(3);
    expect(stack.app.signatures.stats().size).toBe(1);
    // And it is cached: the next lookup costs nothing upstream.
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache.status).toBe('hit');
    expect(requestCount(sim.stats)).toBe(3);
  });

  it('500 is not transient: not retried (1 request), answers 502 CB_SERVER_ERROR; recovers', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ errorRate: 1, errorStatus: 500 });

    const failed = await lookup(stack, GIT, GIT_NAME);
    expect(failed.statusCode).toBe(502);
    expect(problemOf(failed)).toMatchObject({
      status: 502,
      code: 'CB_SERVER_ERROR',
      detail: 'Carbon Black answered 500; try again later.',
      retryable: true,
    });
    expect(failed.body).not.toContain('Unhandled exception');
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json<VerdictBody>().cache.status).toBe('miss');
    expect(requestCount(sim.stats)).toBe(2);
  });
});

describe('429 from Carbon Black', () => {
  it('honours Retry-After before retrying, then answers the verdict', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ failNext: 1, errorStatus: 429, retryAfterSeconds: 1 });

    const started = Date.now();
    const response = await lookup(stack, GIT, GIT_NAME);
    const elapsed = Date.now() - started;
    expect(response.statusCode).toBe(200);
    expect(response.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    // The retry waited for Carbon Black's Retry-After (1 s), not the ~100 ms jittered backoff.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(stack.config.carbonBlack.deadlineMs);
    expect(requestCount(sim.stats)).toBe(2);
    expect(stack.app.signatures.stats().size).toBe(1);
  });

  it('with retries exhausted answers 503 CB_RATE_LIMITED with Retry-After; recovers', async () => {
    const stack = await faultStack({ env: { ...env, CB_RETRIES: '1' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 1 });

    const started = Date.now();
    const limited = await lookup(stack, GIT, GIT_NAME);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(limited.statusCode).toBe(503);
    expect(problemOf(limited)).toMatchObject({ status: 503, code: 'CB_RATE_LIMITED', title: 'Carbon Black is rate limiting Signet' });
    expect(limited.headers['retry-after']).toBe('1');
    expect(requestCount(sim.stats)).toBe(2);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(3);
  });

  it('a Retry-After longer than the remaining deadline fails at once with that Retry-After (no pointless wait)', async () => {
    const stack = await faultStack({ env: { ...env, CB_DEADLINE_MS: '5000' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 30 });

    const started = Date.now();
    const limited = await lookup(stack, GIT, GIT_NAME);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(limited.statusCode).toBe(503);
    expect(problemOf(limited).code).toBe('CB_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('30');
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(0);
  });
});

describe('401 from Carbon Black', () => {
  it('is not retried, answers 502 CB_TOKEN_REJECTED naming the token problem, never the token; recovers', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    const token = stack.config.carbonBlack.token;
    sim.setFaults({ errorRate: 1, errorStatus: 401 });

    const rejected = await lookup(stack, GIT, GIT_NAME);
    expect(rejected.statusCode).toBe(502);
    expect(problemOf(rejected)).toMatchObject({
      status: 502,
      code: 'CB_TOKEN_REJECTED',
      title: 'Carbon Black rejected the API token',
      detail: expect.stringContaining('CB_API_TOKEN'),
    });
    expect(rejected.headers['retry-after']).toBeUndefined();
    expect(rejected.body).not.toContain(token);
    expect(JSON.stringify(rejected.headers)).not.toContain(token);
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(2);
  });
});
