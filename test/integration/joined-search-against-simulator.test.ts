import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

let stack: Stack;

// The first round's behaviour, kept as CB_VERDICT_SOURCE=joined-search: these tests are that round's, unchanged in substance.
beforeAll(async () => {
  stack = await startStack({ env: { CB_VERDICT_SOURCE: 'joined-search' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.app.signatures.cache.clear();
  stack.simulator.simulator.resetStats();
});

const lookup = (md5: string, name: string, headers: Record<string, string> = {}) =>
  stack.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, headers });

describe('joined-search mode: single lookups against the simulator', () => {
  it('reports the seed git binary as signed, through the seed query', async () => {
    const response = await lookup(samples.signed.md5, 'git');
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json()).toMatchObject({ md5: samples.signed.md5, name: 'git', signed: true, cache: { hit: false, status: 'miss' } });
    expect(stack.simulator.simulator.stats.queries).toEqual([`process_md5:${samples.signed.md5} digsig_prog_name:git`]);
  });

  it('reports an unsigned binary as unsigned', async () => {
    const response = await lookup(samples.unsigned.md5, samples.unsigned.name);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ signed: false });
  });

  it('reports a signed binary whose signature names another program as unsigned for the file name (the documented caveat)', async () => {
    const response = await lookup(samples.nameDiffers.md5, samples.nameDiffers.name);
    expect(response.json()).toMatchObject({ signed: false });
    const byProgramName = await lookup(samples.nameDiffers.md5, 'Google Chrome');
    expect(byProgramName.json()).toMatchObject({ signed: true, cache: { status: 'miss' } });
  });

  it('finds names full of query syntax only because they are quoted as one value', async () => {
    const response = await lookup(samples.tricky.md5, samples.tricky.name);
    expect(response.json()).toMatchObject({ signed: true, name: samples.tricky.name });
    const spaced = await lookup(samples.codeHelper.md5, samples.codeHelper.name);
    expect(spaced.json()).toMatchObject({ signed: true });
  });

  it('answers a repeat from the cache without asking Carbon Black', async () => {
    await lookup(samples.signed.md5, 'git');
    expect(stack.upstreamRequests()).toBe(1);
    const again = await lookup(samples.signed.md5, 'git');
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.json()).toMatchObject({ signed: true, cache: { hit: true, status: 'hit' } });
    expect(stack.upstreamRequests()).toBe(1);
  });

  it('an upper-case md5 shares the lower-case entry', async () => {
    await lookup(samples.signed.md5, 'git');
    const upper = await lookup(samples.signed.md5.toUpperCase(), 'git');
    expect(upper.json()).toMatchObject({ md5: samples.signed.md5, cache: { status: 'hit' } });
    expect(stack.upstreamRequests()).toBe(1);
  });

  it('Cache-Control: no-cache asks Carbon Black again', async () => {
    await lookup(samples.signed.md5, 'git');
    const fresh = await lookup(samples.signed.md5, 'git', { 'cache-control': 'no-cache' });
    expect(fresh.json()).toMatchObject({ cache: { status: 'miss' } });
    expect(stack.upstreamRequests()).toBe(2);
  });

  it('DELETE /v1/cache/{md5} forgets the verdict', async () => {
    await lookup(samples.signed.md5, 'git');
    const forget = await stack.app.inject({ method: 'DELETE', url: `/v1/cache/${samples.signed.md5.toUpperCase()}` });
    expect(forget.statusCode).toBe(204);
    expect((await lookup(samples.signed.md5, 'git')).json()).toMatchObject({ cache: { status: 'miss' } });
    expect(stack.upstreamRequests()).toBe(2);
    const stats = await stack.app.inject('/v1/cache');
    expect(stats.json()).toMatchObject({ size: 1, maxEntries: 100_000 });
  });
});

describe('batch lookups against the simulator', () => {
  it('answers in request order, with repeated md5s costing one search', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/signatures/batch',
      payload: {
        items: [
          { md5: samples.signed.md5, name: 'git' },
          { md5: samples.unsigned.md5, name: samples.unsigned.name },
          { md5: samples.signed.md5.toUpperCase(), name: 'git' },
          { md5: samples.signed.md5, name: 'git' },
        ],
      },
    });
    expect(response.statusCode).toBe(200);
    const { results } = response.json() as { results: Array<Record<string, unknown>> };
    expect(results.map((r) => [r.md5, r.signed])).toEqual([
      [samples.signed.md5, true],
      [samples.unsigned.md5, false],
      [samples.signed.md5, true],
      [samples.signed.md5, true],
    ]);
    expect(results.map((r) => (r.cache as { status: string }).status)).toEqual(['miss', 'miss', 'coalesced', 'coalesced']);
    expect(stack.upstreamRequests()).toBe(2);
  });

  it('reports a failed item in place and still answers 200', async () => {
    stack.simulator.simulator.setFaults({ failNext: 1, errorStatus: 401 });
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/signatures/batch',
      payload: { items: [{ md5: samples.python.md5, name: 'python' }] },
    });
    stack.simulator.simulator.clearFaults();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      results: [
        {
          md5: samples.python.md5,
          name: 'python',
          error: {
            status: 502,
            code: 'CB_TOKEN_REJECTED',
            title: 'Carbon Black rejected the API token',
            detail: expect.any(String),
            retryable: false,
          },
        },
      ],
    });
  });
});
