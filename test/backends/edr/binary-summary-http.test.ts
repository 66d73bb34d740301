import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient, type CarbonBlackClientOptions } from '../../../src/backends/edr/client.js';
import { createCarbonBlackDispatcher } from '../../../src/backends/http/dispatcher.js';
import { startLoopbackServer, type LoopbackServer } from './support/loopback.js';
import {
  appidMd5,
  appidParsed,
  appidRecord,
  fullMd5,
  fullRecord,
  unsignedMd5,
  unsignedParsed,
  unsignedRecord,
} from './support/binary-records.js';
import { rejection, TOKEN } from './support/secrets.js';
import { JSON_REPLY, lowerCaseHeaders } from '../../support/mock-carbon-black.js';

/**
 * `binarySummary` against Carbon Black's wire format: `GET {base}/api/v1/binary/{MD5}/summary`
 * answers one record, or 404 (an HTML page) for an md5 the server never saw.
 * Failures shared with the search (statuses, timeouts, aborts) are in binary-calls-failures.test.ts.
 *
 * Carbon Black is faked by an undici MockAgent, which each test's clients take
 * as their dispatcher: requests go through the client's real request path and
 * stop at the HTTP boundary. What a mock cannot fake (a body over the limit
 * whose connection is dropped, connections going back to the pool) runs
 * against real loopback servers, on a real undici Agent, as in production.
 */

const ORIGIN = 'https://cb.test';
const APPID_PATH = `/edr/api/v1/binary/${appidRecord.md5}/summary`;
const notFoundPage =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>';

/** This test's fake Carbon Black; nothing else reaches the network through it. */
let agent: MockAgent;
/** Interceptors a test leaves unused on purpose, having checked that nothing was sent to them. */
let unsent: ReturnType<MockAgent['pendingInterceptors']>;
const clients: CarbonBlackClient[] = [];
/** Whether a client has taken the agent as its dispatcher (closing that client closes the agent). */
let agentTaken: boolean;

/** A client of the MockAgent's ORIGIN. */
function client(overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  agentTaken = true;
  return loopbackClient(`${ORIGIN}/edr`, { dispatcher: agent, ...overrides });
}

/** A client of a real loopback server, through the client's own default dispatcher (a real undici Agent) unless told otherwise. */
function loopbackClient(baseUrl: string, overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  const created = createCarbonBlackClient({
    baseUrl,
    token: TOKEN,
    joinField: 'digsig_prog_name',
    timeoutMs: 2000,
    ...overrides,
  });
  clients.push(created);
  return created;
}

function summary(path = APPID_PATH) {
  return agent.get(ORIGIN).intercept({ path, method: 'GET', headers: { 'x-auth-token': TOKEN, accept: 'application/json' } });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  unsent = [];
  agentTaken = false;
});
afterEach(async () => {
  // Read before closing: closing the agent forgets its interceptors.
  const pending = agent.pendingInterceptors();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  // A client of the agent has closed it; a second close would throw.
  if (!agentTaken) await agent.close();
  expect(pending).toEqual(unsent);
});

describe('request', () => {
  it('GETs /api/v1/binary/{MD5}/summary under the base URL prefix, md5 upper case, with the token header', async () => {
    let seen: { method: string; path: string; headers: Record<string, unknown> } | undefined;
    agent
      .get(ORIGIN)
      .intercept({ path: () => true, method: 'GET' })
      .reply((opts) => {
        seen = { method: opts.method, path: opts.path, headers: lowerCaseHeaders(opts.headers) };
        return { statusCode: 200, data: appidRecord, responseOptions: JSON_REPLY };
      });
    await client().binarySummary(appidMd5);
    expect(seen?.method).toBe('GET');
    expect(seen?.path).toBe('/edr/api/v1/binary/C7F5CAE0B450BE875EEE0E6DDFA771FE/summary');
    expect(seen?.headers['x-auth-token']).toBe(TOKEN);
    expect(seen?.headers['accept']).toBe('application/json');
  });

  it.each([
    ['with a trailing slash', `${ORIGIN}/edr/`, APPID_PATH],
    ['without a prefix', ORIGIN, `/api/v1/binary/${appidRecord.md5}/summary`],
    ['without a prefix, trailing slash', `${ORIGIN}/`, `/api/v1/binary/${appidRecord.md5}/summary`],
  ])('builds the path from a base URL %s', async (_label, baseUrl, path) => {
    summary(path).reply(200, appidRecord, JSON_REPLY);
    await expect(client({ baseUrl }).binarySummary(appidMd5)).resolves.toStrictEqual(appidParsed);
  });

  it('upper-cases a lower- or mixed-case md5 in the path', async () => {
    summary().reply(200, appidRecord, JSON_REPLY).times(2);
    await client().binarySummary(appidMd5);
    await client().binarySummary('c7F5cae0B450be875EEE0e6ddfa771fe');
  });

  it.each(['not-an-md5', '', `${appidMd5}0`, `../${appidMd5.slice(3)}`, `${appidMd5.slice(0, 31)}/`])(
    'rejects the md5 %j with a TypeError, sending nothing',
    async (md5) => {
      await expect(client().binarySummary(md5)).rejects.toBeInstanceOf(TypeError);
    },
  );

  it('does not follow a redirect (the token header would follow it)', async () => {
    summary().reply(302, '', { headers: { location: 'https://elsewhere.test/steal' } });
    agent.get('https://elsewhere.test').intercept({ path: '/steal', method: 'GET' }).reply(200, appidRecord, JSON_REPLY);
    const error = await rejection(client().binarySummary(appidMd5));
    expect(error.code).toBe('CB_UNEXPECTED_STATUS');
    unsent = agent.pendingInterceptors();
    expect(unsent).toMatchObject([{ origin: 'https://elsewhere.test', path: '/steal', timesInvoked: 0 }]);
  });
});

describe('records', () => {
  it('reads the recorded appid.sys row: Signed, Microsoft Corporation, the sign time, no prog name, issuer or subject', async () => {
    summary().reply(200, appidRecord, { headers: { 'content-type': 'application/json; charset=utf-8' } });
    const record = await client().binarySummary(appidMd5.toUpperCase());
    expect(record).toStrictEqual(appidParsed);
    expect(record?.md5).toBe('c7f5cae0b450be875eee0e6ddfa771fe');
    expect(record?.signedAtMs).toBe(Date.parse('2016-04-12T09:21:00Z'));
    expect(record?.programName).toBeUndefined();
    expect(record?.issuer).toBeUndefined();
    expect(record?.subject).toBeUndefined();
  });

  it('reads an unsigned record that has only digsig_result, signed and digsig_result_code', async () => {
    summary(`/edr/api/v1/binary/${unsignedRecord.md5}/summary`).reply(200, unsignedRecord, JSON_REPLY);
    await expect(client().binarySummary(unsignedMd5)).resolves.toStrictEqual(unsignedParsed);
  });

  it('reads every detail of a full record', async () => {
    summary(`/edr/api/v1/binary/${fullRecord.md5}/summary`).reply(200, fullRecord, JSON_REPLY);
    await expect(client().binarySummary(fullMd5)).resolves.toMatchObject({
      digsigResult: 'Signed',
      publisher: 'Microsoft Corporation',
      issuer: 'Microsoft Code Signing PCA 2011',
      subject: 'Microsoft Corporation',
      programName: 'Microsoft Office',
      signedAtMs: Date.parse('2019-08-01T17:02:33Z'),
    });
  });

  it('falls back to `signed` when digsig_result is absent', async () => {
    const { digsig_result: _absent, ...record } = { ...appidRecord, signed: 'Expired' };
    summary().reply(200, record, JSON_REPLY);
    await expect(client().binarySummary(appidMd5)).resolves.toMatchObject({ digsigResult: 'Expired' });
  });

  it('reads null, numeric and empty details as absent, never as ""', async () => {
    summary().reply(
      200,
      {
        ...appidRecord,
        digsig_publisher: '',
        digsig_issuer: null,
        digsig_subject: 5,
        digsig_prog_name: '',
        digsig_sign_time: '',
      },
      JSON_REPLY,
    );
    await expect(client().binarySummary(appidMd5)).resolves.toStrictEqual({ ...appidParsed, publisher: undefined, signedAtMs: undefined });
  });

  it('reads an unparseable sign time as no sign time, not as a failure', async () => {
    summary().reply(200, { ...appidRecord, digsig_sign_time: 'last Tuesday' }, JSON_REPLY);
    await expect(client().binarySummary(appidMd5)).resolves.toStrictEqual({ ...appidParsed, signedAtMs: undefined });
  });

  it('accepts a record whose md5 is lower case', async () => {
    summary().reply(200, { ...appidRecord, md5: appidMd5 }, JSON_REPLY);
    await expect(client().binarySummary(appidMd5)).resolves.toStrictEqual(appidParsed);
  });
});

describe('no record', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('resolves undefined for a 404 HTML page', async () => {
    summary().reply(404, notFoundPage, { headers: { 'content-type': 'text/html; charset=utf-8' } });
    await expect(client().binarySummary(appidMd5)).resolves.toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['JSON', { reason: 'not_found' }],
    ['a record (still no record: the status decides)', appidRecord],
  ])('resolves undefined for a 404 whose body is %s', async (_label, body) => {
    summary().reply(404, body, typeof body === 'string' ? {} : JSON_REPLY);
    await expect(client().binarySummary(appidMd5)).resolves.toBeUndefined();
  });

  it('resolves undefined for a 404 page far over the error body limit, dropping its connection', async () => {
    const page = Buffer.alloc(4 * 1024 * 1024, 0x61);
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html', 'content-length': String(page.length) });
      res.end(page);
    });
    await expect(loopbackClient(server.url).binarySummary(appidMd5)).resolves.toBeUndefined();
  });

  it('drains a 404 so its connection goes back to the pool', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(notFoundPage);
    });
    const c = loopbackClient(server.url, { dispatcher: createCarbonBlackDispatcher({}) });
    for (let i = 0; i < 6; i += 1) await expect(c.binarySummary(appidMd5)).resolves.toBeUndefined();
    expect(server.requests()).toBe(6);
    // Two sockets alternate for sequential requests (see client-pooling.test.ts); a leak would cost one per request.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });
});

describe('malformed records', () => {
  it.each([
    ['not JSON', 'Unhandled exception.', 'not JSON'],
    ['an HTML login page', '<html><body>Please log in</body></html>', 'not JSON'],
    ['empty', '', 'not JSON'],
    ['JSON null', 'null', 'body'],
    ['a JSON array', `[${JSON.stringify(appidRecord)}]`, 'body'],
    ['a search envelope instead of a record', JSON.stringify({ results: [appidRecord], total_results: 1 }), 'md5'],
    ['a record without md5', JSON.stringify({ ...appidRecord, md5: undefined }), 'md5'],
    ['a record whose md5 is not hex', JSON.stringify({ ...appidRecord, md5: 'C7F5CAE0B450BE875EEE0E6DDFA771FX' }), 'md5'],
    ['a record without digsig_result or signed', JSON.stringify({ md5: appidRecord.md5, digsig_result_code: '0' }), 'digsig_result'],
    [
      'a record whose digsig_result and signed are null',
      JSON.stringify({ md5: appidRecord.md5, digsig_result: null, signed: null }),
      'digsig_result',
    ],
  ])('refuses a 200 whose body is %s (CB_MALFORMED_RESPONSE naming %s)', async (_label, body, named) => {
    summary().reply(200, body, JSON_REPLY);
    const error = await rejection(client().binarySummary(appidMd5));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).toContain(named);
    expect(error.message).not.toMatch(/Unhandled|log in|C7F5CAE0B450BE875EEE0E6DDFA771FX/);
  });

  it('refuses a record for a different md5', async () => {
    summary().reply(200, { ...unsignedRecord }, JSON_REPLY);
    const error = await rejection(client().binarySummary(appidMd5));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('a record for a different md5');
    expect(error.message).not.toContain(unsignedRecord.md5);
  });

  it('maps a 204 No Content to CB_MALFORMED_RESPONSE', async () => {
    summary().reply(204);
    const error = await rejection(client().binarySummary(appidMd5));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(204);
  });
});
