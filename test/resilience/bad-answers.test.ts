import { requestCount } from '../support/stack.js';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { VerdictBody } from './support.js';
import { faultStack, lookup, problemOf, useCleanup, waitFor } from './support.js';

useCleanup();

const { md5: GIT, name: GIT_NAME } = samples.signed;
const env = { CB_RETRIES: '2', CB_BREAKER_THRESHOLD: '100' };

/** A 200 whose body cannot be trusted is an error, never a verdict, and never cached. */
describe('answers Signet cannot read', () => {
  it('malformed JSON: 502 CB_MALFORMED_RESPONSE, not retried, not cached; recovers', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ malformedRate: 1 });

    const failed = await lookup(stack, GIT, GIT_NAME);
    expect(failed.statusCode).toBe(502);
    expect(problemOf(failed)).toMatchObject({
      status: 502,
      code: 'CB_MALFORMED_RESPONSE',
      detail: 'Carbon Black sent a response Signet could not read; try again later.',
      retryable: true,
    });
    expect(failed.body).not.toContain('"signed"');
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(2);
    expect(stack.app.signatures.stats().size).toBe(1);
  });

  it('truncated body (Content-Length promised, socket dropped halfway): 502 CB_MALFORMED_RESPONSE, not retried, not cached; recovers', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ truncatedRate: 1 });

    const failed = await lookup(stack, GIT, GIT_NAME);
    expect(failed.statusCode).toBe(502);
    // The client saw the 200 headers, then the body failed: "cut short", which it reports as malformed.
    expect(problemOf(failed)).toMatchObject({ status: 502, code: 'CB_MALFORMED_RESPONSE' });
    expect(failed.body).not.toContain('"signed"');
    expect(requestCount(sim.stats)).toBe(1);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(2);
  });

  it('connection reset before any answer: transient, retried (3 requests), then 502 CB_UNREACHABLE; recovers', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    sim.setFaults({ resetRate: 1 });

    const failed = await lookup(stack, GIT, GIT_NAME);
    expect(failed.statusCode).toBe(502);
    expect(problemOf(failed)).toMatchObject({ status: 502, code: 'CB_UNREACHABLE' });
    expect(requestCount(sim.stats)).toBe(3);
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(4);
  });

  it('a body trickling in slower than CB_TIMEOUT_MS: 504 CB_TIMEOUT, the request is cut, not cached; recovers', async () => {
    const stack = await faultStack({ env: { ...env, CB_TIMEOUT_MS: '300', CB_DEADLINE_MS: '1500' } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ slowBodyMs: 3000 });

    const failed = await lookup(stack, GIT, GIT_NAME);
    expect(failed.statusCode).toBe(504);
    expect(problemOf(failed)).toMatchObject({ status: 504, code: 'CB_TIMEOUT' });
    // Cut at 300 ms, retried once (a whole attempt fits in the 1500 ms deadline), cut again.
    expect(requestCount(sim.stats)).toBe(2);
    await waitFor(() => sim.stats.inFlight === 0, 'the slow search to be cut');
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(requestCount(sim.stats)).toBe(3);
  });
});
