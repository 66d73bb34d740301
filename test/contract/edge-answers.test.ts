import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BYTES_FROM_LENGTH } from '../../src/plugins/schema-compilers.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

let stack: Stack;
let port: number;
beforeAll(async () => {
  stack = await startStack({ env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' } });
  port = Number(new URL(await stack.app.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(() => stack.close());

/** Sends raw bytes on a new connection; resolves with everything read until the server closes it. */
function raw(bytes: Buffer | string): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

function expectRawProblem(text: string, status: number, code: string) {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${head.split('\r\n')[0]!.split(' ').slice(2).join(' ')}`);
  expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(head.toLowerCase()).toContain('content-type: application/problem+json');
  expect(head.toLowerCase()).toContain("content-security-policy: default-src 'none'");
  expect(head.toLowerCase()).toContain('x-content-type-options: nosniff');
  expect(head.toLowerCase()).toContain('cache-control: no-store');
  expect(JSON.parse(body)).toMatchObject({ status, code, type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}` });
}

describe("errors Node's HTTP parser raises answer in the problem format, with the security headers", () => {
  it.each([
    [
      'a raw non-ASCII byte in the URL',
      Buffer.from(`GET /v1/signatures/${samples.signed.md5}?name=caf\xe9.exe HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'),
    ],
    ['a control character in the URL', `GET /v1/signatures/${samples.signed.md5}?name=a\x01b HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['an unknown method', 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a bad chunk size', 'POST /v1/signatures/batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [
      'Content-Length with Transfer-Encoding',
      'POST /v1/signatures/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['duplicate Content-Length', 'POST /v1/signatures/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
  ])('%s → 400', async (_what, bytes) => {
    const { text } = await raw(bytes);
    expectRawProblem(text, 400, 'BAD_REQUEST');
  });

  it('headers too large → 431', async () => {
    const { text } = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectRawProblem(text, 431, 'HEADERS_TOO_LARGE');
  });

  it('headers that stall → 408 within the headers timeout, and the socket is closed', async () => {
    const { text, ms } = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expectRawProblem(text, 408, 'REQUEST_TIMEOUT');
    expect(ms).toBeLessThan(5000);
  });

  it('a body that stalls → 408 within the request timeout, and the socket is closed', async () => {
    const { text, ms } = await raw(
      'POST /v1/signatures/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items":',
    );
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(6000);
  });
});

describe('large answers', () => {
  it('a batch answer past BYTES_FROM_LENGTH goes out as JSON with its exact byte length, as a small one would', async () => {
    // Non-ASCII names: a length counted in UTF-16 units rather than bytes would be short.
    const items = Array.from({ length: 120 }, (_, k) => ({ md5: samples.signed.md5, name: `café-ü-${k}.exe` }));
    const ask = (batch: typeof items) =>
      fetch(`http://127.0.0.1:${port}/v1/signatures/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: batch }),
      });
    const small = await ask(items.slice(0, 1));
    const large = await ask(items);
    const bytes = Buffer.from(await large.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(BYTES_FROM_LENGTH * 2);
    expect(large.status).toBe(200);
    expect(large.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(large.headers.get('content-length')).toBe(String(bytes.length));
    expect(large.headers.get('cache-control')).toBe(small.headers.get('cache-control'));
    const answer = JSON.parse(bytes.toString('utf8')) as { results: { name: string; cache: unknown; checkedAt: string }[] };
    expect(answer.results.map((r) => r.name)).toEqual(items.map((item) => item.name));
    const first = ((await small.json()) as typeof answer).results[0]!;
    // Field for field as the small (string) answer, in the same order, apart from the times of asking.
    const shape = (r: typeof first) => JSON.stringify({ ...r, cache: undefined, checkedAt: undefined });
    expect(shape(answer.results[0]!)).toBe(shape(first));
  });
});

describe('small answers kept consistent', () => {
  it('a known path asked with another method → 405 with Allow', async () => {
    const response = await stack.app.inject({ method: 'PUT', url: `/v1/signatures/${samples.signed.md5}?name=git` });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
    expect(response.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const batch = await stack.app.inject({ method: 'GET', url: '/v1/signatures/batch' });
    // /v1/signatures/batch is also a GET path (an md5 named "batch" is refused by validation), so GET is not a 405.
    expect(batch.statusCode).toBe(400);
    const unknown = await stack.app.inject({ method: 'PUT', url: '/v2/nothing' });
    expect(unknown.statusCode).toBe(404);
  });

  it('a __proto__ key is refused as such, not as "not valid JSON"', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/signatures/batch',
      headers: { 'content-type': 'application/json' },
      payload: `{"items":[{"md5":"${samples.signed.md5}","name":"git"}],"__proto__":{"x":1}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST', detail: expect.stringContaining('__proto__') });
  });

  it('the cache endpoints refuse unknown query parameters like the lookups do', async () => {
    expect((await stack.app.inject('/v1/cache?x=1')).statusCode).toBe(400);
    expect((await stack.app.inject({ method: 'DELETE', url: `/v1/cache/${samples.signed.md5}?x=1` })).statusCode).toBe(400);
    expect((await stack.app.inject('/v1/cache')).statusCode).toBe(200);
  });

  it('a no-cache refresh that fails while the entry is still fresh answers the fresh entry as a hit, with its age', async () => {
    stack.app.signatures.cache.clear();
    await stack.app.inject(`/v1/signatures/${samples.signed.md5}?name=git`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    stack.simulator.simulator.setFaults({ errorRate: 1, errorStatus: 500 });
    try {
      const response = await stack.app.inject({
        url: `/v1/signatures/${samples.signed.md5}?name=git`,
        headers: { 'cache-control': 'no-cache' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-cache']).toBe('HIT');
      expect(response.json()).toMatchObject({ verdict: 'signed', cache: { hit: true, status: 'hit' } });
      expect(response.json<{ cache: { ageSeconds: number } }>().cache.ageSeconds).toBeGreaterThanOrEqual(1);
    } finally {
      stack.simulator.simulator.clearFaults();
    }
  });
});
