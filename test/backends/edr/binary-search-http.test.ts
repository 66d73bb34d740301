import { isDeepStrictEqual } from 'node:util';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCarbonBlackClient,
  MAX_BINARY_SEARCH_MD5S,
  MAX_GET_URL_LENGTH,
  type CarbonBlackClient,
  type CarbonBlackClientOptions,
} from '../../../src/backends/edr/client.js';
import {
  appidMd5,
  appidParsed,
  appidRecord,
  binarySearchEnvelope,
  fullMd5,
  fullRecord,
  unsignedMd5,
  unsignedParsed,
  unsignedRecord,
} from './support/binary-records.js';
import { rejection, TOKEN } from './support/secrets.js';
import { JSON_REPLY, lowerCaseHeaders } from '../../support/mock-carbon-black.js';

/**
 * `searchBinaries` against Carbon Black's wire format:
 * `GET {base}/api/v1/binary?q=md5:A OR md5:B&rows=<n>&start=0` answers the
 * search envelope with one row per md5 the server has a record of.
 * Failures shared with the summary (statuses, timeouts, aborts) are in binary-calls-failures.test.ts.
 *
 * Carbon Black is faked by an undici MockAgent, which each test's clients take
 * as their dispatcher: requests go through the client's real request path and
 * stop at the HTTP boundary. (What a mock cannot fake, such as refused
 * connections, stalls and truncated bodies, is tested against real loopback
 * servers in binary-calls-failures.test.ts.)
 */

const ORIGIN = 'https://cb.test';
const PATH = '/edr/api/v1/binary';
const APPID = appidRecord.md5;
const UNSIGNED = unsignedRecord.md5;

/** This test's fake Carbon Black; nothing else reaches the network through it. */
let agent: MockAgent;
/** Interceptors a test leaves unused on purpose, having checked that nothing was sent to them. */
let unsent: ReturnType<MockAgent['pendingInterceptors']>;
const clients: CarbonBlackClient[] = [];
function client(overrides: Partial<CarbonBlackClientOptions> = {}): CarbonBlackClient {
  const created = createCarbonBlackClient({
    baseUrl: `${ORIGIN}/edr`,
    token: TOKEN,
    joinField: 'digsig_prog_name',
    timeoutMs: 2000,
    dispatcher: agent,
    ...overrides,
  });
  clients.push(created);
  return created;
}

/** An interceptor for the search of `md5s` (upper case, in this order); tests chain the reply. */
function search(md5s: readonly string[], path = PATH) {
  return agent.get(ORIGIN).intercept({
    path,
    method: 'GET',
    query: { q: md5s.map((md5) => `md5:${md5}`).join(' OR '), rows: String(md5s.length), start: '0' },
    headers: { 'x-auth-token': TOKEN, accept: 'application/json' },
  });
}

/** A body matcher for a JSON body deeply equal to `expected` (as nock matched an object body). */
function jsonBody(expected: unknown): (body: string) => boolean {
  return (body) => {
    try {
      return isDeepStrictEqual(JSON.parse(body), expected);
    } catch {
      return false;
    }
  };
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
  // Every client here is a client of the agent and closes it; with none, nothing has closed it yet.
  await Promise.all(opened.map((c) => c.close()));
  if (opened.length === 0) await agent.close();
  expect(pending).toEqual(unsent);
});

describe('request', () => {
  it('GETs /api/v1/binary under the prefix with q=md5:A OR md5:B (upper case, form-encoded), rows=<count>, start=0', async () => {
    let seen: { method: string; path: string; headers: Record<string, unknown> } | undefined;
    agent
      .get(ORIGIN)
      .intercept({ path: () => true, method: 'GET' })
      .reply((opts) => {
        seen = { method: opts.method, path: opts.path, headers: lowerCaseHeaders(opts.headers) };
        return { statusCode: 200, data: binarySearchEnvelope([]), responseOptions: JSON_REPLY };
      });
    await client().searchBinaries([appidMd5, unsignedMd5]);
    expect(seen?.method).toBe('GET');
    expect(seen?.path).toBe(`${PATH}?q=md5%3A${APPID}+OR+md5%3A${UNSIGNED}&rows=2&start=0`);
    expect(seen?.headers['x-auth-token']).toBe(TOKEN);
    expect(seen?.headers['accept']).toBe('application/json');
  });

  it.each([
    ['with a trailing slash', `${ORIGIN}/edr/`, PATH],
    ['without a prefix', ORIGIN, '/api/v1/binary'],
    ['without a prefix, trailing slash', `${ORIGIN}/`, '/api/v1/binary'],
  ])('builds the path from a base URL %s', async (_label, baseUrl, path) => {
    search([APPID], path).reply(200, binarySearchEnvelope([appidRecord]), JSON_REPLY);
    const records = await client({ baseUrl }).searchBinaries([appidMd5]);
    expect(records.get(appidMd5)).toStrictEqual(appidParsed);
  });

  it('sends each md5 once, whatever case the duplicates are in, and asks for that many rows', async () => {
    search([APPID, UNSIGNED]).reply(200, binarySearchEnvelope([]), JSON_REPLY);
    await client().searchBinaries([appidMd5, APPID, unsignedMd5, 'c7F5CAE0b450be875eee0e6ddfa771fE', UNSIGNED]);
  });

  it(`asks for all ${MAX_BINARY_SEARCH_MD5S} md5s in one request, a POST with the JSON body: the GET URL would pass ${MAX_GET_URL_LENGTH} bytes`, async () => {
    const md5s = Array.from({ length: MAX_BINARY_SEARCH_MD5S }, (_, i) => i.toString(16).padStart(32, 'A'));
    const q = md5s.map((md5) => `md5:${md5.toUpperCase()}`).join(' OR ');
    agent
      .get(ORIGIN)
      .intercept({
        path: PATH,
        method: 'POST',
        headers: { 'x-auth-token': TOKEN, accept: 'application/json', 'content-type': 'application/json' },
        body: jsonBody({ q: [q], rows: MAX_BINARY_SEARCH_MD5S, start: 0 }),
      })
      .reply(200, binarySearchEnvelope([{ ...appidRecord, md5: md5s[7]!.toUpperCase() }]), JSON_REPLY);
    const records = await client().searchBinaries(md5s);
    expect([...records.keys()]).toEqual([md5s[7]!.toLowerCase()]);
  });

  it(`keeps the GET while the URL is at most ${MAX_GET_URL_LENGTH} bytes, and POSTs from the first md5 that passes it`, async () => {
    const md5s = Array.from({ length: MAX_BINARY_SEARCH_MD5S }, (_, i) => i.toString(16).padStart(32, '0'));
    const base = `${ORIGIN}/edr/api/v1/binary?`;
    const urlLength = (count: number): number =>
      (
        base +
        new URLSearchParams({
          q: md5s
            .slice(0, count)
            .map((md5) => `md5:${md5.toUpperCase()}`)
            .join(' OR '),
          rows: String(count),
          start: '0',
        })
      ).length;
    const longestGet = md5s.findLastIndex((_, i) => urlLength(i + 1) <= MAX_GET_URL_LENGTH) + 1;
    expect(longestGet).toBeGreaterThan(1);
    const seen: string[] = [];
    const record = (opts: { method: string }) => {
      seen.push(opts.method);
      return { statusCode: 200, data: binarySearchEnvelope([]), responseOptions: JSON_REPLY };
    };
    agent
      .get(ORIGIN)
      .intercept({ path: () => true, method: 'GET' })
      .reply(record);
    agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(record);
    await client().searchBinaries(md5s.slice(0, longestGet));
    await client().searchBinaries(md5s.slice(0, longestGet + 1));
    expect(seen).toEqual(['GET', 'POST']);
  });

  it.each<[string, unknown]>([
    ['no md5', []],
    ['more than 100 distinct md5s', Array.from({ length: MAX_BINARY_SEARCH_MD5S + 1 }, (_, i) => i.toString(16).padStart(32, '0'))],
    ['one bad md5 among good ones', [appidMd5, 'not-an-md5']],
    ['an md5 with a clause after it', [`${appidMd5} OR md5:*`]],
    ['a wildcard', ['*']],
    ['a string instead of a list', appidMd5],
  ])('rejects %s with a TypeError, sending nothing', async (_label, md5s) => {
    await expect(client().searchBinaries(md5s as string[])).rejects.toBeInstanceOf(TypeError);
  });

  it('does not follow a redirect (the token header would follow it)', async () => {
    search([APPID]).reply(302, '', { headers: { location: 'https://elsewhere.test/steal' } });
    agent
      .get('https://elsewhere.test')
      .intercept({ path: '/steal', method: 'GET' })
      .reply(200, binarySearchEnvelope([appidRecord]), JSON_REPLY);
    const error = await rejection(client().searchBinaries([appidMd5]));
    expect(error.code).toBe('CB_UNEXPECTED_STATUS');
    unsent = agent.pendingInterceptors();
    expect(unsent).toMatchObject([{ origin: 'https://elsewhere.test', path: '/steal', timesInvoked: 0 }]);
  });
});

describe('records', () => {
  it('maps every row to its lower-case md5; an md5 without a row is absent from the map', async () => {
    search([APPID, UNSIGNED, fullRecord.md5]).reply(200, binarySearchEnvelope([unsignedRecord, appidRecord]), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    const records = await client().searchBinaries([APPID, unsignedMd5, fullMd5]);
    expect([...records.keys()].sort()).toEqual([appidMd5, unsignedMd5].sort());
    expect(records.get(appidMd5)).toStrictEqual(appidParsed);
    expect(records.get(unsignedMd5)).toStrictEqual(unsignedParsed);
    expect(records.has(fullMd5)).toBe(false);
    expect(records.get(APPID)).toBeUndefined();
  });

  it('resolves an empty map when the server has none of them', async () => {
    search([APPID]).reply(200, binarySearchEnvelope([]), JSON_REPLY);
    const records = await client().searchBinaries([appidMd5]);
    expect(records).toBeInstanceOf(Map);
    expect(records.size).toBe(0);
  });

  it('falls back to `signed` when a row has no digsig_result, and reads null or empty details as absent', async () => {
    const { digsig_result: _absent, ...row } = { ...appidRecord, digsig_publisher: null, digsig_sign_time: '' };
    search([APPID]).reply(200, binarySearchEnvelope([row]), JSON_REPLY);
    const records = await client().searchBinaries([appidMd5]);
    expect(records.get(appidMd5)).toStrictEqual({ ...appidParsed, publisher: undefined, signedAtMs: undefined });
  });

  it('accepts identical duplicate rows for one md5', async () => {
    search([APPID]).reply(200, binarySearchEnvelope([appidRecord, { ...appidRecord }], 2), JSON_REPLY);
    const records = await client().searchBinaries([appidMd5]);
    expect(records.size).toBe(1);
    expect(records.get(appidMd5)).toStrictEqual(appidParsed);
  });

  it('accepts duplicate rows that agree on digsig_result but differ in case or other keys', async () => {
    search([APPID]).reply(200, binarySearchEnvelope([appidRecord, { ...appidRecord, md5: appidMd5, host_count: 9 }], 2), JSON_REPLY);
    await expect(client().searchBinaries([appidMd5])).resolves.toEqual(new Map([[appidMd5, appidParsed]]));
  });

  it('tolerates unknown keys in the envelope and the rows', async () => {
    search([APPID]).reply(
      200,
      { ...binarySearchEnvelope([{ ...appidRecord, novel: { deep: [1] } }]), brand_new_key: 'x', facets: null },
      JSON_REPLY,
    );
    await expect(client().searchBinaries([appidMd5])).resolves.toEqual(new Map([[appidMd5, appidParsed]]));
  });

  it('accepts a minimal envelope with only results and total_results', async () => {
    search([UNSIGNED]).reply(200, JSON.stringify({ results: [unsignedRecord], total_results: 1 }), {
      headers: { 'content-type': 'text/plain' },
    });
    await expect(client().searchBinaries([unsignedMd5])).resolves.toEqual(new Map([[unsignedMd5, unsignedParsed]]));
  });
});

describe('404', () => {
  it.each([
    ['an HTML page', '<html><title>404 Not Found</title></html>'],
    ['empty', ''],
  ])('is CB_UNEXPECTED_STATUS, not "no record" (the body is %s)', async (_label, body) => {
    search([APPID]).reply(404, body, { headers: { 'content-type': 'text/html' } });
    const error = await rejection(client().searchBinaries([appidMd5]));
    expect(error.code).toBe('CB_UNEXPECTED_STATUS');
    expect(error.upstreamStatus).toBe(404);
    expect(error.message).not.toMatch(/html|Not Found/);
  });
});

describe('malformed answers', () => {
  it.each([
    ['not JSON', 'Unhandled exception.', 'not JSON'],
    ['empty', '', 'not JSON'],
    ['JSON null', 'null', 'body'],
    ['a bare record instead of an envelope', JSON.stringify(appidRecord), 'results'],
    ['missing total_results', JSON.stringify({ results: [] }), 'total_results'],
    ['results not an array', JSON.stringify({ results: {}, total_results: 0 }), 'results'],
    ['a row that is not an object', JSON.stringify({ results: [1], total_results: 1 }), 'results.0'],
    ['a row without md5', JSON.stringify({ results: [{ digsig_result: 'Signed' }], total_results: 1 }), 'results.0.md5'],
    ['a row without a verdict', JSON.stringify({ results: [appidRecord, { md5: UNSIGNED }], total_results: 2 }), 'results.1.digsig_result'],
    ['total_results as a string', JSON.stringify({ results: [], total_results: '0' }), 'total_results'],
  ])('refuses a 200 whose body is %s (CB_MALFORMED_RESPONSE naming %s)', async (_label, body, named) => {
    search([APPID, UNSIGNED]).reply(200, body, JSON_REPLY);
    const error = await rejection(client().searchBinaries([APPID, UNSIGNED]));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).toContain(named);
    expect(error.message).not.toContain('Unhandled');
  });

  it('refuses a row for an md5 that was not asked about', async () => {
    search([APPID]).reply(200, binarySearchEnvelope([appidRecord, unsignedRecord]), JSON_REPLY);
    const error = await rejection(client().searchBinaries([appidMd5]));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('not asked about');
    expect(error.message).not.toContain(UNSIGNED);
  });

  it('refuses rows for one md5 that disagree on digsig_result', async () => {
    search([APPID]).reply(
      200,
      binarySearchEnvelope([appidRecord, { ...appidRecord, digsig_result: 'Bad Signature', signed: 'Bad Signature' }], 2),
      JSON_REPLY,
    );
    const error = await rejection(client().searchBinaries([appidMd5]));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('conflicting');
  });

  it('refuses a disagreement that only shows through the `signed` fallback', async () => {
    const { digsig_result: _absent, ...viaSigned } = { ...appidRecord, signed: 'Unsigned' };
    search([APPID]).reply(200, binarySearchEnvelope([appidRecord, viaSigned], 2), JSON_REPLY);
    expect((await rejection(client().searchBinaries([appidMd5]))).code).toBe('CB_MALFORMED_RESPONSE');
  });

  it('refuses total_results above the rows returned (the server held rows back)', async () => {
    search([APPID, UNSIGNED]).reply(200, binarySearchEnvelope([appidRecord], 2), JSON_REPLY);
    const error = await rejection(client().searchBinaries([APPID, UNSIGNED]));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('1 of 2 rows');
  });

  it('refuses total_results above the rows even when every md5 came back', async () => {
    search([APPID]).reply(200, binarySearchEnvelope([appidRecord], 5), JSON_REPLY);
    expect((await rejection(client().searchBinaries([appidMd5]))).code).toBe('CB_MALFORMED_RESPONSE');
  });
});
