import { afterEach, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startStack, type Stack } from '../support/stack.js';

/** Asking for a fresh verdict (Cache-Control or Pragma), and emptying the whole cache. */
const open: Stack[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function stack(): Promise<Stack> {
  const started = await startStack();
  open.push(started);
  return started;
}

const url = `/v1/signatures/${samples.signed.md5}?name=${samples.signed.name}`;

describe('fresh lookups and emptying the cache', () => {
  it.each([
    [{ 'cache-control': 'no-cache' }, 'miss'],
    [{ 'cache-control': 'max-age=0' }, 'miss'],
    [{ pragma: 'no-cache' }, 'miss'],
    [{ pragma: 'No-Cache' }, 'miss'],
    // Cache-Control wins over Pragma when both are sent (RFC 9111, 5.4).
    [{ 'cache-control': 'max-age=60', pragma: 'no-cache' }, 'hit'],
    [{ pragma: 'x-other' }, 'hit'],
  ])('%j on a cached binary answers a %s', async (headers, status) => {
    const s = await stack();
    await s.app.inject(url);
    const before = s.upstreamRequests();
    const answer = await s.app.inject({ url, headers });
    expect(answer.json()).toMatchObject({ verdict: 'signed', cache: { status } });
    expect(s.upstreamRequests()).toBe(before + (status === 'miss' ? 1 : 0));
  });

  it('DELETE /v1/cache empties the cache and says how many entries went', async () => {
    const s = await stack();
    for (const sample of [samples.signed, samples.unsigned, samples.unseen]) {
      await s.app.inject(`/v1/signatures/${sample.md5}?name=${encodeURIComponent(sample.name)}`);
    }
    const emptied = await s.app.inject({ method: 'DELETE', url: '/v1/cache' });
    expect(emptied.statusCode).toBe(200);
    expect(emptied.json()).toEqual({ removed: 3 });
    expect(s.app.signatures.stats().size).toBe(0);
    expect((await s.app.inject({ method: 'DELETE', url: '/v1/cache' })).json()).toEqual({ removed: 0 });
    expect((await s.app.inject(url)).json()).toMatchObject({ cache: { status: 'miss' } });
  });

  it('DELETE /v1/cache refuses unknown query parameters', async () => {
    const s = await stack();
    const refused = await s.app.inject({ method: 'DELETE', url: '/v1/cache?all=1' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'INVALID_REQUEST', retryable: false });
  });
});
