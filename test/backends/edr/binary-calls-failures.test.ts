import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient, type CarbonBlackClientOptions } from '../../../src/backends/edr/client.js';
import { closedLoopbackPort, eventually, startLoopbackServer, type LoopbackServer } from './support/loopback.js';
import { appidMd5, appidRecord, binarySearchEnvelope } from './support/binary-records.js';
import { rejection, TOKEN } from './support/secrets.js';
import { JSON_REPLY } from '../../support/mock-carbon-black.js';

/**
 * The failures both binary-record calls share with the process search, since
 * all three go through one request path: status mapping, Retry-After,
 * transport errors, the per-request timeout, the caller's abort, a closed
 * client, body limits. Run once per call.
 *
 * Carbon Black is faked by an undici MockAgent, which each test's clients take
 * as their dispatcher: requests go through the client's real request path and
 * stop at the HTTP boundary. What a mock cannot fake (refused connections,
 * stalls, truncated bodies, sockets closing) runs against real loopback
 * servers, on the client's own default dispatcher, as in production.
 */

const ORIGIN = 'https://cb.test';

interface Call {
  name: string;
  /** The path (and query) the call requests for appidMd5, under a base URL without prefix. */
  path: string;
  query?: Record<string, string>;
  run(client: CarbonBlackClient, signal?: AbortSignal): Promise<unknown>;
  /** A 200 body that is a good answer for appidMd5. */
  body: object;
}

const calls: Call[] = [
  {
    name: 'binarySummary',
    path: `/api/v1/binary/${appidRecord.md5}/summary`,
    run: (client, signal) => client.binarySummary(appidMd5, signal),
    body: appidRecord,
  },
  {
    name: 'searchBinaries',
    path: '/api/v1/binary',
    query: { q: `md5:${appidRecord.md5}`, rows: '1', start: '0' },
    run: (client, signal) => client.searchBinaries([appidMd5], signal),
    body: binarySearchEnvelope([appidRecord]),
  },
];

/** This test's fake Carbon Black; nothing else reaches the network through it. */
let agent: MockAgent;
/** Interceptors a test leaves unused on purpose, having checked that nothing was sent. */
let unsent: ReturnType<MockAgent['pendingInterceptors']>;
const clients: CarbonBlackClient[] = [];

/** A client of the MockAgent's ORIGIN. */
function client(overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  return track(
    createCarbonBlackClient({
      baseUrl: ORIGIN,
      token: TOKEN,
      joinField: 'digsig_prog_name',
      timeoutMs: 2000,
      dispatcher: agent,
      ...overrides,
    }),
  );
}

/** A client of a real loopback server, through the client's own default dispatcher (a real undici Agent). */
function loopbackClient(baseUrl: string, overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  return track(createCarbonBlackClient({ baseUrl, token: TOKEN, joinField: 'digsig_prog_name', timeoutMs: 2000, ...overrides }));
}

function track(created: CarbonBlackClient): CarbonBlackClient {
  clients.push(created);
  return created;
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  unsent = [];
});
afterEach(async () => {
  // Read before closing: closing the agent forgets its interceptors.
  const pending = agent.pendingInterceptors();
  const opened = clients.splice(0);
  // A client closes its dispatcher; with no client on the agent, nothing has closed it yet.
  await Promise.all(opened.map((c) => c.close()));
  if (opened.length === 0) await agent.close();
  expect(pending).toEqual(unsent);
});

describe.each(calls)('$name', (call) => {
  function answer() {
    return agent.get(ORIGIN).intercept({ path: call.path, method: 'GET', ...(call.query !== undefined && { query: call.query }) });
  }

  describe('status errors', () => {
    it('maps 400 with a JSON reason to CB_QUERY_REJECTED, naming the reason', async () => {
      answer().reply(400, { reason: 'query_malformed_syntax' }, JSON_REPLY);
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_QUERY_REJECTED');
      expect(error.upstreamStatus).toBe(400);
      expect(error.message).toContain('query_malformed_syntax');
      expect(error.transient).toBe(false);
    });

    it('does not echo a 400 body that is not a short JSON reason', async () => {
      answer().reply(400, '<html><script>alert(1)</script>Bad Request</html>', { headers: { 'content-type': 'text/html' } });
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_QUERY_REJECTED');
      expect(error.message).not.toMatch(/script|html|Bad Request/);
    });

    it.each([401, 403])('maps %i to CB_TOKEN_REJECTED without echoing the page', async (status) => {
      answer().reply(status, '<html><head><title>401 Unauthorized</title></head><body>nope</body></html>', {
        headers: { 'content-type': 'text/html' },
      });
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_TOKEN_REJECTED');
      expect(error.upstreamStatus).toBe(status);
      expect(error.message).not.toMatch(/html|nope/);
      expect(error.transient).toBe(false);
    });

    it('maps 429 to CB_RATE_LIMITED with Retry-After', async () => {
      answer().reply(429, 'slow down', { headers: { 'retry-after': '7' } });
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_RATE_LIMITED');
      expect(error.retryAfterMs).toBe(7000);
      expect(error.transient).toBe(true);
    });

    it('maps 429 without Retry-After', async () => {
      answer().reply(429);
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_RATE_LIMITED');
      expect(error.retryAfterMs).toBeUndefined();
    });

    it.each([
      [500, 'Unhandled exception. Check logs for details.', false],
      [502, '<html>Bad Gateway</html>', true],
      [503, 'busy', true],
      [504, '<html>Gateway Timeout</html>', true],
    ])('maps %i to CB_SERVER_ERROR', async (status, body, transient) => {
      answer().reply(status, body);
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_SERVER_ERROR');
      expect(error.upstreamStatus).toBe(status);
      expect(error.message).not.toMatch(/html|Unhandled|busy/);
      expect(error.transient).toBe(transient);
    });

    it('keeps Retry-After on a 503', async () => {
      answer().reply(503, 'maintenance', { headers: { 'retry-after': '120' } });
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_SERVER_ERROR');
      expect(error.retryAfterMs).toBe(120_000);
    });

    it.each([405, 409, 418, 301, 304])('maps %i to CB_UNEXPECTED_STATUS', async (status) => {
      answer().reply(status, 'whatever');
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_UNEXPECTED_STATUS');
      expect(error.upstreamStatus).toBe(status);
    });
  });

  describe('transport failures', () => {
    let server: LoopbackServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('maps a refused connection to CB_UNREACHABLE', async () => {
      const port = await closedLoopbackPort();
      const error = await rejection(call.run(loopbackClient(`http://127.0.0.1:${port}`)));
      expect(error.code).toBe('CB_UNREACHABLE');
      expect(error.message).toContain('ECONNREFUSED');
      expect(error.upstreamStatus).toBeUndefined();
    });

    it('maps a socket error to CB_UNREACHABLE', async () => {
      answer().replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      const error = await rejection(call.run(client()));
      expect(error.code).toBe('CB_UNREACHABLE');
      expect(error.message).toContain('ECONNRESET');
    });

    it('aborts a request that gets no answer within timeoutMs (CB_TIMEOUT), closing the socket', async () => {
      server = await startLoopbackServer(() => {
        // Never answers.
      });
      const started = Date.now();
      const error = await rejection(call.run(loopbackClient(server.url, { timeoutMs: 300 })));
      expect(error.code).toBe('CB_TIMEOUT');
      expect(error.message).toContain('300 ms');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(2000);
      const hung = server;
      await eventually(() => hung.closedRequestSockets() === 1);
    });

    it('aborts a body that stalls halfway (CB_TIMEOUT with the status received)', async () => {
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"md5": ');
      });
      const error = await rejection(call.run(loopbackClient(server.url, { timeoutMs: 300 })));
      expect(error.code).toBe('CB_TIMEOUT');
      expect(error.upstreamStatus).toBe(200);
    });

    it('settles a 404 whose body stalls by its status once timeoutMs cuts the drain short', async () => {
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.write('<html>');
      });
      const pending = call.run(loopbackClient(server.url, { timeoutMs: 300 }));
      // The summary reads a 404 as "no record" once drained; a drain cut short by the timeout still ends the call.
      const settled = await pending.then(
        (value: unknown) => ({ value }),
        (error: unknown) => ({ error }),
      );
      if (call.name === 'binarySummary') expect(settled).toEqual({ value: undefined });
      else expect(settled).toMatchObject({ error: { code: 'CB_UNEXPECTED_STATUS', upstreamStatus: 404 } });
    });

    it('maps a body cut short by the server to CB_MALFORMED_RESPONSE', async () => {
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"md5": "C7F5');
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const error = await rejection(call.run(loopbackClient(server.url)));
      expect(error.code).toBe('CB_MALFORMED_RESPONSE');
      expect(error.upstreamStatus).toBe(200);
      expect(error.message).toContain('cut short');
    });

    it('refuses a success body over 8 MiB', async () => {
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 10 && res.write(chunk)) sent += 1;
          if (sent >= 10) res.end();
          else res.once('drain', pump);
        };
        res.socket?.on('close', () => res.removeAllListeners('drain'));
        pump();
      });
      const error = await rejection(call.run(loopbackClient(server.url)));
      expect(error.code).toBe('CB_MALFORMED_RESPONSE');
      expect(error.message).toContain('over');
    });
  });

  describe('caller abort', () => {
    let server: LoopbackServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('rejects with the signal reason unchanged and aborts the request', async () => {
      let arrived!: () => void;
      const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
      server = await startLoopbackServer(() => arrived());
      const controller = new AbortController();
      const pending = call.run(loopbackClient(server.url, { timeoutMs: 10_000 }), controller.signal);
      await requestArrived;
      const reason = new Error('caller gave up');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      const hung = server;
      await eventually(() => hung.closedRequestSockets() === 1);
    });

    it('rejects with the reason when aborted while the body is read', async () => {
      let headersSent!: () => void;
      const sent = new Promise<void>((resolve) => (headersSent = resolve));
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"results": [', () => headersSent());
      });
      const controller = new AbortController();
      const pending = call.run(loopbackClient(server.url, { timeoutMs: 10_000 }), controller.signal);
      await sent;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const reason = new Error('caller gave up mid-body');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });

    it('rejects with the reason when aborted while a 404 body is drained', async () => {
      let headersSent!: () => void;
      const sent = new Promise<void>((resolve) => (headersSent = resolve));
      server = await startLoopbackServer((_req, res) => {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.write('<html><title>404 Not Found</title>', () => headersSent());
      });
      const controller = new AbortController();
      const pending = call.run(loopbackClient(server.url, { timeoutMs: 10_000 }), controller.signal);
      await sent;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const reason = new Error('caller gave up during the 404');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });

    it('rejects with a DOMException AbortError when aborted without a reason', async () => {
      answer().reply(200, call.body, JSON_REPLY).delay(1000);
      const controller = new AbortController();
      const pending = call.run(client(), controller.signal);
      setTimeout(() => controller.abort(), 50);
      const error: unknown = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
    });

    it('sends nothing when the signal is already aborted', async () => {
      answer().reply(200, call.body, JSON_REPLY);
      const reason = new Error('already gone');
      await expect(call.run(client(), AbortSignal.abort(reason))).rejects.toBe(reason);
      unsent = agent.pendingInterceptors();
      expect(unsent).toMatchObject([{ origin: ORIGIN, method: 'GET', timesInvoked: 0 }]);
    });

    it('still applies timeoutMs when the caller passes a signal', async () => {
      answer().reply(200, call.body, JSON_REPLY).delay(1500);
      const error = await rejection(call.run(client({ timeoutMs: 200 }), new AbortController().signal));
      expect(error.code).toBe('CB_TIMEOUT');
    });
  });

  describe('lifecycle', () => {
    it('answers before close, rejects with CB_UNREACHABLE after it, sending nothing', async () => {
      answer().reply(200, call.body, JSON_REPLY);
      const c = client();
      await expect(call.run(c)).resolves.toBeDefined();
      expect(agent.pendingInterceptors()).toEqual([]);
      await c.close();
      answer().reply(200, call.body, JSON_REPLY);
      const error = await rejection(call.run(c));
      expect(error.code).toBe('CB_UNREACHABLE');
      expect(error.message).toContain('closed');
      unsent = agent.pendingInterceptors();
      expect(unsent).toMatchObject([{ origin: ORIGIN, method: 'GET', timesInvoked: 0 }]);
    });
  });
});
