import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, startBackendStack, type BackendKind, type BackendStack, type Sample } from '../support/backend-stack.js';
import type { LightMyRequestResponse } from 'fastify';

/**
 * The guard behaves the same whichever backend is behind it: the same
 * failures give the same statuses and codes, nothing failed is cached, and
 * Signet recovers when Carbon Black does. Each row runs against the EDR
 * simulator and against the Cloud simulator, over loopback.
 */

const open: BackendStack[] = [];
afterEach(async () => {
  while (open.length > 0)
    await open
      .pop()!
      .close()
      .catch(() => undefined);
});

async function stack(kind: BackendKind, env: Record<string, string> = {}): Promise<BackendStack> {
  const started = await startBackendStack(kind, env);
  open.push(started);
  return started;
}

function lookup(s: BackendStack, sample: Sample, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return s.app.inject({ url: `/v1/signatures/${sample.hash}?name=${encodeURIComponent(sample.name)}`, headers });
}

function problem(response: LightMyRequestResponse): { status: number; code: string } {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  return response.json();
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(BACKENDS)('the guard in front of %s', (kind) => {
  it('answers the verdicts of the three kinds, and a second lookup is a hit with no request', async () => {
    const s = await stack(kind);
    for (const [sample, verdict] of [
      [s.samples.signed, 'signed'],
      [s.samples.unsigned, 'unsigned'],
      [s.samples.unknown, 'unknown'],
    ] as const) {
      const first = await lookup(s, sample);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ verdict, signed: verdict === 'signed', cache: { status: 'miss' } });
      const before = s.requests();
      const again = await lookup(s, sample);
      expect(again.json()).toMatchObject({ verdict, cache: { status: 'hit' } });
      expect(again.headers['x-cache']).toBe('HIT');
      expect(s.requests()).toBe(before);
    }
  });

  it('connection resets: retried, then 502 CB_UNREACHABLE, nothing cached; recovers', async () => {
    const s = await stack(kind, { CB_RETRIES: '2' });
    s.setFaults({ resetRate: 1 });
    const failed = await lookup(s, s.samples.signed);
    expect(failed.statusCode).toBe(502);
    expect(problem(failed).code).toBe('CB_UNREACHABLE');
    expect(s.attempts()).toBe(3);
    expect(s.app.signatures.stats().size).toBe(0);
    s.clearFaults();
    expect((await lookup(s, s.samples.signed)).json()).toMatchObject({ verdict: 'signed', cache: { status: 'miss' } });
  });

  it('503 on every request: retried CB_RETRIES times, then 502 CB_SERVER_ERROR, never a verdict', async () => {
    const s = await stack(kind, { CB_RETRIES: '2' });
    s.setFaults({ errorRate: 1, errorStatus: 503 });
    const failed = await lookup(s, s.samples.unknown);
    expect(failed.statusCode).toBe(502);
    expect(problem(failed).code).toBe('CB_SERVER_ERROR');
    expect(s.attempts()).toBe(3);
    expect(s.app.signatures.stats().size).toBe(0);
  });

  it('two 503s then an answer: the retries absorb them, 200 miss', async () => {
    const s = await stack(kind, { CB_RETRIES: '2' });
    s.setFaults({ errorStatus: 503, failNext: 2 });
    const answer = await lookup(s, s.samples.unsigned);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ verdict: 'unsigned', cache: { status: 'miss' } });
    expect(s.attempts()).toBe(3);
  });

  it('a malformed answer: 502 CB_MALFORMED_RESPONSE, not retried, not cached', async () => {
    const s = await stack(kind, { CB_RETRIES: '2' });
    s.setFaults({ malformedRate: 1 });
    const failed = await lookup(s, s.samples.signed);
    expect(failed.statusCode).toBe(502);
    expect(problem(failed).code).toBe('CB_MALFORMED_RESPONSE');
    expect(s.attempts()).toBe(1);
    expect(s.app.signatures.stats().size).toBe(0);
  });

  it('hanging: 504 within the deadline, the request aborted, nothing cached; recovers', async () => {
    const s = await stack(kind, { CB_TIMEOUT_MS: '300', CB_DEADLINE_MS: '1500', CB_RETRIES: '2' });
    s.setFaults({ hangRate: 1 });
    const started = Date.now();
    const hung = await lookup(s, s.samples.signed);
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
    expect(hung.statusCode).toBe(504);
    expect(problem(hung).code).toBe('CB_TIMEOUT');
    // One timed-out attempt is retried once when a whole attempt fits in the deadline.
    expect(s.attempts()).toBe(2);
    await waitFor(() => s.inFlight() === 0, 'the hung request to be aborted');
    expect(s.app.signatures.stats().size).toBe(0);
    s.clearFaults();
    expect((await lookup(s, s.samples.signed)).statusCode).toBe(200);
  });

  it('an outage opens the breaker: lookups fail fast with 503 and no request is sent', async () => {
    const s = await stack(kind, { CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '3', CB_BREAKER_COOLDOWN_MS: '60000' });
    s.setFaults({ errorRate: 1, errorStatus: 503 });
    for (const sample of [s.samples.signed, s.samples.unsigned, s.samples.unknown]) {
      expect(problem(await lookup(s, sample)).code).toBe('CB_SERVER_ERROR');
    }
    const before = s.requests();
    const refused = await lookup(s, { hash: s.samples.signed.hash, name: 'other' });
    expect(refused.statusCode).toBe(503);
    expect(problem(refused).code).toBe('UPSTREAM_BREAKER_OPEN');
    expect(refused.headers['retry-after']).toBeDefined();
    expect(s.requests()).toBe(before);
  });

  it('stale-if-error: an expired verdict is served, marked stale, when Carbon Black fails', async () => {
    const s = await stack(kind, { CACHE_TTL_SIGNED_SECONDS: '1', CB_RETRIES: '0' });
    expect((await lookup(s, s.samples.signed)).json()).toMatchObject({ verdict: 'signed', cache: { status: 'miss' } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    s.setFaults({ errorRate: 1, errorStatus: 500 });
    const stale = await lookup(s, s.samples.signed);
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json()).toMatchObject({ verdict: 'signed', cache: { status: 'stale', hit: true } });
  });

  it('429 with a Retry-After longer than the deadline: 503 CB_RATE_LIMITED with Retry-After, not a verdict', async () => {
    const s = await stack(kind, { CB_DEADLINE_MS: '1000', CB_RETRIES: '2' });
    s.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 30 });
    const limited = await lookup(s, s.samples.unsigned);
    expect(limited.statusCode).toBe(503);
    expect(problem(limited).code).toBe('CB_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(s.attempts()).toBe(1);
  });
});
