import { getEventListeners } from 'node:events';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient, type CarbonBlackClientOptions } from '../../../src/backends/edr/client.js';
import { closedLoopbackPort, eventually, startLoopbackServer, type LoopbackServer } from './support/loopback.js';
import { rejection, TOKEN } from './support/secrets.js';
import { seedGitRow } from '../../../src/simulator/fixtures.js';
import { JSON_REPLY, lowerCaseHeaders } from '../../support/mock-carbon-black.js';

/**
 * The client against Carbon Black's wire format. An undici MockAgent fakes the
 * server for status codes and bodies: each test's clients take it as their
 * dispatcher, so requests go through the client's real request path and stop at
 * the HTTP boundary. A real loopback server, reached through the client's own
 * default dispatcher as in production, covers what a mock cannot fake
 * faithfully: refused connections, stalls that must be truly aborted (the
 * socket closing), truncated bodies, oversized bodies.
 */

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const ORIGIN = 'https://cb.test';
const PATH = '/edr/api/v1/process';

/** The seed blog post's signed row: fixture data shared with the simulator, no code. */
const seedRow = seedGitRow;

const envelope = (results: object[], total: number) => ({
  terms: [`process_md5:${MD5}`],
  results,
  elapsed: 0.147,
  total_results: total,
  highlights: [],
  facets: {},
  tagged_pids: {},
  start: 0,
  filtered: {},
  comprehensive_search: true,
  all_segments: true,
  incomplete_results: false,
});

/** The seed blog post's unsigned answer (older server: no comprehensive_search & co.). */
const seedUnsigned = {
  elapsed: 0.00925898551940918,
  facets: {},
  filtered: {},
  highlights: [],
  results: [],
  start: 0,
  tagged_pids: {},
  terms: ['process_md5:3d485deffe2f74d0c15f1cb23086f936'],
  total_results: 0,
};

/** This test's fake Carbon Black; nothing else reaches the network through it. */
let agent: MockAgent;
/** Whether a client of the agent was created (it closes the agent when it closes). */
let agentClients: boolean;
/** Interceptors a test leaves unused on purpose, having checked that nothing was sent to them. */
let unsent: ReturnType<MockAgent['pendingInterceptors']>;
const clients: CarbonBlackClient[] = [];

/** A client of the MockAgent's ORIGIN. */
function client(overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  agentClients = true;
  return track(
    createCarbonBlackClient({
      baseUrl: `${ORIGIN}/edr`,
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

/** An interceptor for the seed query; tests chain the reply. */
function seedSearch(query: Record<string, string> = { q: `process_md5:${MD5} digsig_prog_name:git` }) {
  return agent.get(ORIGIN).intercept({
    path: PATH,
    method: 'GET',
    query: { ...query, rows: '1', start: '0', sort: '' },
    headers: { 'x-auth-token': TOKEN, accept: 'application/json' },
  });
}

/** A socket error as undici reports one: an Error with a `code`. */
function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  agentClients = false;
  unsent = [];
});
afterEach(async () => {
  // Read before closing: closing the agent forgets its interceptors.
  const pending = agent.pendingInterceptors();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  // A client of the agent has closed it; with none, nothing has closed it yet.
  if (!agentClients) await agent.close();
  expect(pending).toEqual(unsent);
});

describe('request', () => {
  it('sends the seed query, form-encoded, to the path under the base URL prefix, with the token header', async () => {
    let seen: { path: string; headers: Record<string, unknown> } | undefined;
    agent
      .get(ORIGIN)
      .intercept({ path: () => true, method: 'GET' })
      .reply((opts) => {
        seen = { path: opts.path, headers: lowerCaseHeaders(opts.headers) };
        return { statusCode: 200, data: seedUnsigned, responseOptions: JSON_REPLY };
      });
    await client().isSigned(MD5, 'git');
    expect(seen?.path).toBe(`${PATH}?q=process_md5%3A${MD5}+digsig_prog_name%3Agit&rows=1&start=0&sort=`);
    expect(seen?.headers['x-auth-token']).toBe(TOKEN);
    expect(seen?.headers['accept']).toBe('application/json');
  });

  it.each([
    ['with a trailing slash', `${ORIGIN}/edr/`, PATH],
    ['with several trailing slashes', `${ORIGIN}/edr//`, PATH],
    ['without a prefix', ORIGIN, '/api/v1/process'],
    ['without a prefix, trailing slash', `${ORIGIN}/`, '/api/v1/process'],
  ])('builds the path from a base URL %s', async (_label, baseUrl, path) => {
    agent
      .get(ORIGIN)
      .intercept({ path, method: 'GET', query: { q: `process_md5:${MD5} digsig_prog_name:git`, rows: '1', start: '0', sort: '' } })
      .reply(200, seedUnsigned, JSON_REPLY);
    await expect(client({ baseUrl }).isSigned(MD5, 'git')).resolves.toBe(false);
  });

  it('lowercases the md5 and quotes a multi-word name', async () => {
    seedSearch({ q: `process_md5:${MD5} digsig_prog_name:"Code Helper"` }).reply(200, seedUnsigned, JSON_REPLY);
    await expect(client().isSigned(MD5.toUpperCase(), 'Code Helper')).resolves.toBe(false);
  });

  it('asks digsig_result:Signed in digsig_result mode', async () => {
    seedSearch({ q: `process_md5:${MD5} digsig_result:Signed` }).reply(200, envelope([seedRow], 1), JSON_REPLY);
    await expect(client({ joinField: 'digsig_result' }).isSigned(MD5, 'anything at all')).resolves.toBe(true);
  });

  it('does not follow redirects (the token header would follow them)', async () => {
    seedSearch().reply(302, 'moved', { headers: { location: 'https://elsewhere.test/steal' } });
    agent
      .get('https://elsewhere.test')
      .intercept({ path: '/steal', method: 'GET' })
      .reply(200, envelope([seedRow], 1), JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNEXPECTED_STATUS');
    expect(error.upstreamStatus).toBe(302);
    // The 302 was used; the redirect target never was.
    unsent = agent.pendingInterceptors();
    expect(unsent).toMatchObject([{ origin: 'https://elsewhere.test', path: '/steal', timesInvoked: 0 }]);
  });
});

describe('verdict', () => {
  it('is signed when the seed row comes back', async () => {
    seedSearch().reply(200, envelope([seedRow], 1), JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('is signed when total_results counts rows the page did not carry', async () => {
    seedSearch().reply(200, { results: [], total_results: 3 }, JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('is signed for a row without process_md5 (only a mismatching md5 is suspicious)', async () => {
    seedSearch().reply(200, { results: [{ process_name: 'git' }], total_results: 1 }, JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('is unsigned for the seed blog post empty answer', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(false);
  });

  it('is unsigned for a minimal empty answer', async () => {
    seedSearch().reply(200, '{"results":[],"total_results":0}', { headers: { 'content-type': 'text/plain' } });
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(false);
  });

  it('tolerates unknown keys everywhere', async () => {
    seedSearch().reply(200, { ...envelope([{ ...seedRow, novel: { deep: [1] } }], 1), brand_new_key: 'x' }, JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('still says signed when results are incomplete but a row was found', async () => {
    seedSearch().reply(200, { results: [seedRow], total_results: 1, incomplete_results: true }, JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('refuses to call an empty, incomplete answer unsigned', async () => {
    seedSearch().reply(200, { results: [], total_results: 0, incomplete_results: true }, JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_SERVER_ERROR');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).toContain('incomplete');
  });
});

describe('status errors', () => {
  it('maps 400 with a JSON reason to CB_QUERY_REJECTED, naming the reason', async () => {
    seedSearch().reply(400, { reason: 'query_syntax_error' }, JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_QUERY_REJECTED');
    expect(error.upstreamStatus).toBe(400);
    expect(error.message).toContain('query_syntax_error');
    expect(error.transient).toBe(false);
  });

  it('does not echo a 400 body that is not a short JSON reason', async () => {
    seedSearch().reply(400, '<html><body><script>alert(1)</script>Bad Request</body></html>', { headers: { 'content-type': 'text/html' } });
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_QUERY_REJECTED');
    expect(error.message).not.toMatch(/script|html|Bad Request/);
  });

  it('does not echo a 400 JSON reason that is not an identifier', async () => {
    seedSearch().reply(400, { reason: '<b>no</b> token was f00d' }, JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.message).not.toContain('<b>');
  });

  it.each([401, 403])('maps %i to CB_TOKEN_REJECTED without echoing the HTML page', async (status) => {
    seedSearch().reply(status, '<html><head><title>401 Unauthorized</title></head><body>nope</body></html>', {
      headers: { 'content-type': 'text/html' },
    });
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TOKEN_REJECTED');
    expect(error.upstreamStatus).toBe(status);
    expect(error.message).toMatch(/token/);
    expect(error.message).not.toMatch(/html|nope/);
    expect(error.transient).toBe(false);
  });

  it('maps 429 to CB_RATE_LIMITED with Retry-After in seconds', async () => {
    seedSearch().reply(429, 'slow down', { headers: { 'retry-after': '7' } });
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_RATE_LIMITED');
    expect(error.retryAfterMs).toBe(7000);
    expect(error.transient).toBe(true);
  });

  it('maps 429 with Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000);
    at.setMilliseconds(0);
    seedSearch().reply(429, '', { headers: { 'retry-after': at.toUTCString() } });
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_RATE_LIMITED');
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps 429 without Retry-After (retryAfterMs undefined)', async () => {
    seedSearch().reply(429);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_RATE_LIMITED');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it.each([
    [500, 'Unhandled exception. Check logs for details.', false],
    [502, '<html>Bad Gateway</html>', true],
    [503, 'busy', true],
    [504, '<html>Gateway Timeout</html>', true],
    [599, '', false],
  ])('maps %i to CB_SERVER_ERROR with upstreamStatus', async (status, body, transient) => {
    seedSearch().reply(status, body);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_SERVER_ERROR');
    expect(error.upstreamStatus).toBe(status);
    expect(error.message).toContain(String(status));
    expect(error.message).not.toMatch(/html|Unhandled|busy/);
    expect(error.transient).toBe(transient);
  });

  it('keeps Retry-After on a 503', async () => {
    seedSearch().reply(503, 'maintenance', { headers: { 'retry-after': '120' } });
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_SERVER_ERROR');
    expect(error.retryAfterMs).toBe(120_000);
  });

  it.each([404, 405, 409, 418, 301, 304])('maps %i to CB_UNEXPECTED_STATUS', async (status) => {
    seedSearch().reply(status, 'whatever');
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNEXPECTED_STATUS');
    expect(error.upstreamStatus).toBe(status);
  });
});

describe('malformed answers', () => {
  it.each([
    ['not JSON', 'Unhandled exception.'],
    ['an HTML login page', '<html><body>Please log in</body></html>'],
    ['truncated JSON', '{"results": [{"process_md5": "82a7'],
    ['empty', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON string', '"ok"'],
    ['missing results', '{"total_results": 0}'],
    ['missing total_results', '{"results": []}'],
    ['results not an array', '{"results": {}, "total_results": 0}'],
    ['a row that is not an object', '{"results": [1], "total_results": 1}'],
    ['total_results as a string', '{"results": [], "total_results": "0"}'],
    ['negative total_results', '{"results": [], "total_results": -1}'],
    ['fractional total_results', '{"results": [], "total_results": 0.5}'],
    ['process_md5 not a string', '{"results": [{"process_md5": 1}], "total_results": 1}'],
  ])('maps a 200 whose body is %s to CB_MALFORMED_RESPONSE', async (_label, body) => {
    seedSearch().reply(200, body, JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).not.toMatch(/Unhandled|log in|82a7/);
  });

  it('maps a 204 No Content to CB_MALFORMED_RESPONSE', async () => {
    seedSearch().reply(204);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(204);
  });

  it('refuses a row about another binary instead of calling it signed', async () => {
    seedSearch().reply(200, envelope([{ ...seedRow, process_md5: '3d485deffe2f74d0c15f1cb23086f936' }], 1), JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
  });

  it('accepts a row whose process_md5 differs only in case', async () => {
    seedSearch().reply(200, envelope([{ ...seedRow, process_md5: MD5.toUpperCase() }], 1), JSON_REPLY);
    await expect(client().isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('names the offending field of a wrong shape, not its value', async () => {
    seedSearch().reply(200, { results: 'f00d', total_results: 0 }, JSON_REPLY);
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.message).toContain('results');
    expect(error.message).not.toContain('f00d');
  });
});

describe('transport failures', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('maps a refused connection (closed loopback port) to CB_UNREACHABLE', async () => {
    const port = await closedLoopbackPort();
    const error = await rejection(loopbackClient(`http://127.0.0.1:${port}`).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNREACHABLE');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.upstreamStatus).toBeUndefined();
    expect(error.transient).toBe(true);
  });

  it.each(['ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])('maps a %s socket error to CB_UNREACHABLE', async (code) => {
    seedSearch().replyWithError(socketError(code, `${code} while talking to cb.test`));
    const error = await rejection(client().isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNREACHABLE');
    expect(error.message).toContain(code);
  });

  it('aborts a request that gets no answer within timeoutMs (CB_TIMEOUT), closing the socket', async () => {
    server = await startLoopbackServer(() => {
      // Never answers.
    });
    const started = Date.now();
    const error = await rejection(loopbackClient(server.url, { timeoutMs: 300 }).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TIMEOUT');
    expect(error.message).toContain('300 ms');
    expect(error.upstreamStatus).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2000);
    const hung = server;
    await eventually(() => hung.closedRequestSockets() === 1);
    expect(hung.requests()).toBe(1);
  });

  it('aborts a body that stalls halfway (CB_TIMEOUT with the status already received)', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"results": [');
    });
    const error = await rejection(loopbackClient(server.url, { timeoutMs: 300 }).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TIMEOUT');
    expect(error.upstreamStatus).toBe(200);
    const hung = server;
    await eventually(() => hung.closedRequestSockets() === 1);
    expect(hung.requests()).toBe(1);
  });

  it('times out a mocked reply delayed past timeoutMs', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY).delay(1500);
    const error = await rejection(client({ timeoutMs: 200 }).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TIMEOUT');
  });

  it('maps a body cut short by the server closing the connection to CB_MALFORMED_RESPONSE', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"results": [], "total_results": 0');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await rejection(loopbackClient(server.url).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
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
    const error = await rejection(loopbackClient(server.url).isSigned(MD5, 'git'));
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
    const pending = loopbackClient(server.url, { timeoutMs: 10_000 }).isSigned(MD5, 'git', controller.signal);
    await requestArrived;
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const hung = server;
    await eventually(() => hung.closedRequestSockets() === 1);
    expect(hung.requests()).toBe(1);
  });

  it('rejects with a DOMException AbortError when aborted without a reason', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY).delay(1000);
    const controller = new AbortController();
    const pending = client().isSigned(MD5, 'git', controller.signal);
    setTimeout(() => controller.abort(), 50);
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
  });

  it('sends nothing when the signal is already aborted', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY);
    const reason = new Error('already gone');
    await expect(client().isSigned(MD5, 'git', AbortSignal.abort(reason))).rejects.toBe(reason);
    unsent = agent.pendingInterceptors();
    expect(unsent).toMatchObject([{ origin: ORIGIN, method: 'GET', timesInvoked: 0 }]);
  });

  it('lets go of its timeout and of the caller signal once a request has its answer', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY);
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const controller = new AbortController();
    const pending = client({ timeoutMs: 60_000 }).isSigned(MD5, 'git', controller.signal);
    // While the request is out, its timer and its listener on the caller's signal are there to be let go of.
    expect(timers()).toBe(before + 1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await expect(pending).resolves.toBe(false);
    // A timer left behind would fire a minute later for every request ever sent.
    expect(timers()).toBe(before);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('still applies timeoutMs when the caller passes a signal', async () => {
    seedSearch().reply(200, seedUnsigned, JSON_REPLY).delay(1500);
    const error = await rejection(client({ timeoutMs: 200 }).isSigned(MD5, 'git', new AbortController().signal));
    expect(error.code).toBe('CB_TIMEOUT');
  });
});

describe('lifecycle', () => {
  it('rejects with CB_UNREACHABLE after close, and close is idempotent', async () => {
    const c = client();
    await c.close();
    await c.close();
    const error = await rejection(c.isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNREACHABLE');
    expect(error.message).toContain('closed');
  });

  it('rejects a bad md5 as a programming error (TypeError), sending nothing', async () => {
    await expect(client().isSigned('not-an-md5', 'git')).rejects.toBeInstanceOf(TypeError);
  });
});
