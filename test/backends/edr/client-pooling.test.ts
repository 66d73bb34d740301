import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient } from '../../../src/backends/edr/client.js';
import { createCarbonBlackDispatcher } from '../../../src/backends/http/dispatcher.js';
import { eventually, startLoopbackServer, type LoopbackServer } from './support/loopback.js';
import { TOKEN } from './support/secrets.js';

/**
 * Node 20's global fetch is undici 6 inside; the client hands it an undici 7
 * Agent as `dispatcher`. These tests pin down, against a real loopback server,
 * that this pairing really pools and keeps connections alive, and that every
 * answer (including error answers) releases its connection back to the pool.
 *
 * Sequential lookups settle on two sockets, not one: fetch resolves the body a
 * moment before undici marks the socket idle, so the next request finds it busy
 * and opens a second one; from then on the two alternate. Node's own global
 * dispatcher does the same. A leaked (undrained) answer would instead cost one
 * new socket per lookup, which is what these tests would catch.
 */
const reusedSockets = 2;

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const unsignedBody = JSON.stringify({ results: [], total_results: 0 });

let server: LoopbackServer | undefined;
let cbClient: CarbonBlackClient | undefined;
afterEach(async () => {
  await cbClient?.close();
  await server?.close();
  cbClient = undefined;
  server = undefined;
});

function clientFor(url: string, connections?: number): CarbonBlackClient {
  cbClient = createCarbonBlackClient({
    baseUrl: url,
    token: TOKEN,
    joinField: 'digsig_prog_name',
    timeoutMs: 5000,
    dispatcher: createCarbonBlackDispatcher(connections === undefined ? {} : { connections }),
  });
  return cbClient;
}

describe('connection pooling', () => {
  it('reuses one keep-alive connection for sequential lookups', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(unsignedBody);
    });
    const c = clientFor(server.url);
    for (let i = 0; i < 10; i += 1) await expect(c.isSigned(MD5, 'git')).resolves.toBe(false);
    expect(server.requests()).toBe(10);
    expect(server.connections()).toBeLessThanOrEqual(reusedSockets);
  });

  it.each([
    [401, '<html><head><title>401 Unauthorized</title></head></html>'],
    [400, '{"reason":"query_syntax_error"}'],
    [503, 'Service Unavailable'],
    [404, 'not here'],
  ])('releases the connection after a %i answer (the body is drained, not left hanging)', async (status, body) => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(body);
    });
    const c = clientFor(server.url);
    for (let i = 0; i < 6; i += 1) await expect(c.isSigned(MD5, 'git')).rejects.toMatchObject({ upstreamStatus: status });
    expect(server.requests()).toBe(6);
    expect(server.connections()).toBeLessThanOrEqual(reusedSockets);
  });

  it('drops, rather than leaves hanging, the connection of an oversized error answer', async () => {
    // 4 MiB is more than undici buffers on its own, so an unread body would hold its socket open.
    const page = Buffer.alloc(4 * 1024 * 1024, 0x61);
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html', 'content-length': String(page.length) });
      res.end(page);
    });
    const c = clientFor(server.url);
    for (let i = 0; i < 3; i += 1) await expect(c.isSigned(MD5, 'git')).rejects.toMatchObject({ code: 'CB_SERVER_ERROR' });
    const hosting = server;
    await eventually(() => hosting.closedRequestSockets() === hosting.requests());
  });

  it('releases the connection after a malformed 200', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results": "nope"}');
    });
    const c = clientFor(server.url);
    for (let i = 0; i < 6; i += 1) await expect(c.isSigned(MD5, 'git')).rejects.toMatchObject({ code: 'CB_MALFORMED_RESPONSE' });
    expect(server.connections()).toBeLessThanOrEqual(reusedSockets);
  });

  it('opens no more than `connections` sockets under concurrent load', async () => {
    server = await startLoopbackServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(unsignedBody);
      }, 20);
    });
    const c = clientFor(server.url, 2);
    const verdicts = await Promise.all(Array.from({ length: 12 }, () => c.isSigned(MD5, 'git')));
    expect(verdicts).toEqual(Array(12).fill(false));
    expect(server.requests()).toBe(12);
    expect(server.connections()).toBe(2);
  });

  it('close() closes the dispatcher it was given', async () => {
    const dispatcher = createCarbonBlackDispatcher({});
    const closeSpy = vi.spyOn(dispatcher, 'close');
    const c = createCarbonBlackClient({
      baseUrl: 'http://127.0.0.1:9',
      token: TOKEN,
      joinField: 'digsig_result',
      timeoutMs: 100,
      dispatcher,
    });
    await c.close();
    await c.close();
    // undici's promise form of close() calls close(callback) on itself, hence the filter.
    expect(closeSpy.mock.calls.filter((args) => args.length === 0)).toHaveLength(1);
  });
});
