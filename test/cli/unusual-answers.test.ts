/**
 * Answers that are not Signet's own, as a proxy or a load balancer in front
 * of it may give, and a base URL with a path prefix: the client reads a
 * status without a problem document by its status alone (502/503/504/429 are
 * worth a retry), refuses a batch answer that does not hold one result per
 * item, and reads Retry-After as seconds or as a date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRetryAfter, SignetClient } from '../../src/cli/signet-client.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack, Proxy } from './support.js';
import { KEY, startCliStack, startProxy } from './support.js';

let stack: CliStack;
let proxy: Proxy;
beforeAll(async () => {
  stack = await startCliStack();
  proxy = await startProxy(stack.url, (request, response) => {
    if (request.path.startsWith('/html/')) {
      response.writeHead(502, { 'content-type': 'text/html', 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }).end('<h1>Bad gateway</h1>');
      return true;
    }
    if (request.path.startsWith('/teapot/')) {
      response.writeHead(418, { 'content-type': 'text/plain' }).end('no');
      return true;
    }
    if (request.path === '/short/v1/signatures/batch') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
      return true;
    }
    if (request.path.startsWith('/list/')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('[1, 2]');
      return true;
    }
    if (request.path.startsWith('/prefix/')) {
      // A reverse proxy that serves Signet under /prefix/.
      request.path = request.path.slice('/prefix'.length);
    }
    return false;
  });
});
afterAll(async () => {
  await proxy.close();
  await stack.close();
});

const client = (path: string) =>
  new SignetClient({ baseUrl: new URL(`${proxy.url}${path}`), apiKey: KEY, timeoutMs: 5000, userAgent: 'test' });

describe('answers that are not Signet problem documents', () => {
  it("a proxy's HTML 502 is retryable, with its Retry-After date as seconds", async () => {
    const outcome = await client('/html').lookup(samples.signed.md5, 'git');
    expect(outcome).toMatchObject({ ok: false, failure: { status: 502, code: 'UNEXPECTED_RESPONSE', retryable: true } });
    expect(!outcome.ok && outcome.failure.retryAfterSeconds).toBeGreaterThan(1_000_000);
  });

  it('any other status without a problem document is not retryable', async () => {
    expect(await client('/teapot/').batch([{}])).toMatchObject({
      ok: false,
      failure: { status: 418, code: 'UNEXPECTED_RESPONSE', retryable: false },
    });
  });

  it('a batch answer without one result per item is refused', async () => {
    expect(await client('/short').batch([{ md5: samples.signed.md5, name: 'git' }])).toMatchObject({
      ok: false,
      failure: { status: 200, code: 'UNEXPECTED_RESPONSE', detail: 'the answer does not hold 1 results' },
    });
  });

  it('a lookup answer that is not an object is refused', async () => {
    expect(await client('/list').lookup(samples.signed.md5, 'git')).toMatchObject({ ok: false, failure: { code: 'UNEXPECTED_RESPONSE' } });
  });

  it('a base URL with a path prefix keeps the prefix, with or without a trailing slash', async () => {
    for (const base of ['/prefix', '/prefix/']) {
      expect(await client(base).lookup(samples.signed.md5, 'git')).toMatchObject({ ok: true, verdict: { verdict: 'signed' } });
      expect(client(base).origin).toBe(`${proxy.url}/prefix`);
    }
  });
});

describe('Retry-After', () => {
  it('seconds, an HTTP date, or nothing usable', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
