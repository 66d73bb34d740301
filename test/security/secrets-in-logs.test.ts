import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * The Carbon Black token and the API keys never leave Signet: a full session
 * at trace level (lookups, a batch, wrong and missing keys, a key without the
 * role, every kind of Carbon Black failure, validation errors, a 404, a rate
 * limit, the docs) is captured from a real pino logger built by createLogger,
 * and neither the token nor any key appears in a log line, a response body,
 * a response header or the OpenAPI document, not even as a 12-character piece.
 */

const CB_TOKEN = 'CBTOKEN-5ec2e7-d0n0tl0g-6f1b2c3d4e5f';
const OPS_KEY = 'OpsKey-9f8e7d6c5b4a39281706f5e4d3'; // 32 characters
const READER_KEY = 'ReaderKey-a1b2c3d4e5f60718293a4b5c';
const BURST_KEY = 'BurstKey-0f1e2d3c4b5a69788796a5b4c3';
/** A key no one configured: what a caller with a typo or a stolen key sends. It is a secret too. */
const WRONG_KEY = 'WrongKey-77665544332211ffeeddccbbaa';
const SECRETS = { CB_TOKEN, OPS_KEY, READER_KEY, BURST_KEY, WRONG_KEY };
/** Above what ops and reader use in the session; only the burst key goes over it. */
const RATE_LIMIT = 50;

const lines: string[] = [];
const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
const responses: Array<{ what: string; response: LightMyRequestResponse }> = [];
let stack: Stack;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
let md5Counter = 0;
/** A fresh md5 each time, so each failure really reaches Carbon Black. */
const freshMd5 = () => `5ec0000000000000000000${(md5Counter++).toString(16).padStart(10, '0')}`;

async function call(what: string, options: InjectOptions | string): Promise<LightMyRequestResponse> {
  const response = await stack.app.inject(options);
  responses.push({ what, response });
  return response;
}

/** Every 12-character piece of a secret: a truncated or sliced leak is still a leak. */
function pieces(secret: string): string[] {
  return Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
}

function leaksIn(text: string): string[] {
  return Object.entries(SECRETS).flatMap(([name, secret]) => (pieces(secret).some((piece) => text.includes(piece)) ? [name] : []));
}

beforeAll(async () => {
  const logger = createLogger({ level: 'trace', pretty: false, destination });
  stack = await startStack({
    simulator: { token: CB_TOKEN },
    deps: { logger },
    env: {
      CB_API_TOKEN: CB_TOKEN,
      AUTH_DISABLED: 'false',
      API_KEYS: `ops:${OPS_KEY}:admin,reader:${READER_KEY},burst:${BURST_KEY}`,
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      LOG_LEVEL: 'trace',
      CB_RETRIES: '0',
      CB_TIMEOUT_MS: '500',
      CB_DEADLINE_MS: '1500',
      CB_BREAKER_THRESHOLD: '1000',
    },
  });
  const sim = stack.simulator.simulator;
  const ops = bearer(OPS_KEY);
  const reader = bearer(READER_KEY);

  // Public routes and docs.
  await call('healthz', '/healthz');
  await call('readyz', '/readyz');
  await call('openapi', '/openapi.json');
  await call('docs json', '/docs/json');
  await call('docs yaml', '/docs/yaml');
  await call('docs page', '/docs/');

  // Lookups that succeed.
  await call('signed lookup', { url: `/v1/signatures/${samples.signed.md5}?name=git`, headers: ops });
  await call('unsigned lookup', { url: `/v1/signatures/${samples.unsigned.md5}?name=nc`, headers: reader });
  await call('cached lookup', { url: `/v1/signatures/${samples.signed.md5}?name=git`, headers: reader });
  await call('fresh lookup', { url: `/v1/signatures/${samples.signed.md5}?name=git`, headers: { ...ops, 'cache-control': 'no-cache' } });
  await call('batch', {
    method: 'POST',
    url: '/v1/signatures/batch',
    headers: reader,
    payload: {
      items: [
        { md5: samples.signed.md5, name: 'git' },
        { md5: samples.nameDiffers.md5, name: 'chrome.exe' },
        { md5: freshMd5(), name: 'x' },
      ],
    },
  });

  // Who may call.
  await call('wrong key', { url: `/v1/signatures/${samples.signed.md5}?name=git`, headers: bearer(WRONG_KEY) });
  await call('wrong key, lower-case scheme', { url: '/v1/cache', headers: { authorization: `bearer ${WRONG_KEY}` } });
  await call('key in the wrong scheme', {
    url: `/v1/signatures/${samples.signed.md5}?name=git`,
    headers: { authorization: `Basic ${Buffer.from(`ops:${OPS_KEY}`).toString('base64')}` },
  });
  await call('key with a space', {
    url: `/v1/signatures/${samples.signed.md5}?name=git`,
    headers: { authorization: `Bearer ${OPS_KEY} ${WRONG_KEY}` },
  });
  await call('no key', `/v1/signatures/${samples.signed.md5}?name=git`);
  await call('lookup key on an admin route', { url: '/v1/cache', headers: reader });
  await call('lookup key forgetting', { method: 'DELETE', url: `/v1/cache/${samples.signed.md5}`, headers: reader });
  await call('cache stats', { url: '/v1/cache', headers: ops });
  await call('forget', { method: 'DELETE', url: `/v1/cache/${samples.signed.md5}`, headers: ops });

  // Carbon Black failing in every way the simulator can.
  const failures: Array<[string, Parameters<typeof sim.setFaults>[0]]> = [
    ['token rejected', { errorRate: 1, errorStatus: 401 }],
    ['server error', { errorRate: 1, errorStatus: 500 }],
    ['rate limited upstream', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 3 }],
    ['malformed answer', { malformedRate: 1 }],
    ['truncated answer', { truncatedRate: 1 }],
    ['connection reset', { resetRate: 1 }],
    ['hang until timeout', { hangRate: 1 }],
  ];
  for (const [what, faults] of failures) {
    sim.clearFaults();
    sim.setFaults(faults);
    await call(`upstream ${what}`, { url: `/v1/signatures/${freshMd5()}?name=git`, headers: ops });
    await call(`upstream ${what} in a batch`, {
      method: 'POST',
      url: '/v1/signatures/batch',
      headers: ops,
      payload: { items: [{ md5: freshMd5(), name: 'git' }] },
    });
  }
  sim.clearFaults();

  // Requests that are wrong.
  await call('bad md5', { url: '/v1/signatures/nothex?name=git', headers: ops });
  await call('name with a control character', { url: `/v1/signatures/${samples.signed.md5}?name=a%0Ab`, headers: ops });
  await call('unknown parameter', { url: `/v1/signatures/${samples.signed.md5}?name=git&token=x`, headers: ops });
  await call('invalid JSON', {
    method: 'POST',
    url: '/v1/signatures/batch',
    headers: { ...ops, 'content-type': 'application/json' },
    payload: '{"items":[',
  });
  await call('text body', {
    method: 'POST',
    url: '/v1/signatures/batch',
    headers: { ...ops, 'content-type': 'text/plain' },
    payload: 'items',
  });
  await call('huge body', {
    method: 'POST',
    url: '/v1/signatures/batch',
    headers: { ...ops, 'content-type': 'application/json' },
    payload: JSON.stringify({ items: [{ md5: samples.signed.md5, name: 'x'.repeat(2_000_000) }] }),
  });
  await call('unknown route', { url: '/v2/everything', headers: ops });
  await call('unknown route, no key', '/admin');

  // One key over its limit.
  for (let i = 0; i <= RATE_LIMIT; i++) {
    await call(`burst ${i + 1}`, { url: `/v1/signatures/${samples.unsigned.md5}?name=nc`, headers: bearer(BURST_KEY) });
  }
}, 30_000);

afterAll(() => stack?.close());

describe('the session itself', () => {
  it('went through every kind of answer', () => {
    const statuses = new Set(responses.map(({ response }) => response.statusCode));
    for (const status of [200, 204, 400, 401, 403, 404, 413, 415, 429, 502, 503, 504]) expect(statuses, `a ${status}`).toContain(status);
    const codes = new Set(
      responses.map(({ response }) =>
        response.headers['content-type']?.toString().includes('problem') ? (response.json() as { code: string }).code : '',
      ),
    );
    for (const code of [
      'CB_TOKEN_REJECTED',
      'CB_SERVER_ERROR',
      'CB_MALFORMED_RESPONSE',
      'CB_UNREACHABLE',
      'CB_TIMEOUT',
      'CB_RATE_LIMITED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
    ]) {
      expect(codes, code).toContain(code);
    }
  });

  it('was logged at trace level, failures with their errors (so the absence below means something)', () => {
    expect(lines.length).toBeGreaterThan(responses.length);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // One line per request at least (Fastify's request logging or the access log, whichever is on).
    expect(entries.filter((entry) => entry.msg === 'request completed').length).toBeGreaterThanOrEqual(responses.length);
    expect(entries.some((entry) => entry.msg === 'request not authenticated')).toBe(true);
    expect(entries.some((entry) => entry.msg === 'caller lacks the role')).toBe(true);
    // Upstream failures are logged with the error and its cause chain.
    const errors = entries.filter((entry) => typeof entry.err === 'object' && entry.err !== null);
    expect(errors.map((entry) => (entry as { code?: string }).code)).toEqual(
      expect.arrayContaining(['CB_TOKEN_REJECTED', 'CB_TIMEOUT', 'CB_UNREACHABLE']),
    );
    expect(JSON.stringify(errors)).toContain('127.0.0.1');
  });
});

describe('no secret', () => {
  it('in any log line', () => {
    const leaks = lines.flatMap((line, i) => leaksIn(line).map((name) => `line ${i + 1}: ${name}: ${line.slice(0, 300)}`));
    expect(leaks).toEqual([]);
  });

  it('in any response body or header', () => {
    const leaks = responses.flatMap(({ what, response }) => {
      const found = [
        ...leaksIn(response.body).map((name) => `${name} in the body`),
        ...leaksIn(JSON.stringify(response.headers)).map((name) => `${name} in a header`),
      ];
      return found.map((leak) => `${what} (${response.statusCode}): ${leak}`);
    });
    expect(leaks).toEqual([]);
  });

  it('in the served OpenAPI document', () => {
    const docs = responses.filter(({ what }) => what === 'openapi' || what.startsWith('docs'));
    expect(docs.map(({ response }) => response.statusCode)).toEqual([200, 200, 200, 200]);
    for (const { response } of docs) expect(leaksIn(response.body)).toEqual([]);
  });
});

describe('redaction', () => {
  const secretKeys = new Set(['authorization', 'x-auth-token', 'cookie', 'token', 'apikey']);

  function secretValues(value: unknown, path: string, found: string[]): void {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (secretKeys.has(key.toLowerCase()) && child !== '[redacted]') found.push(`${path}.${key}`);
      secretValues(child, `${path}.${key}`, found);
    }
  }

  it('no log line carries an authorization, token or cookie field other than "[redacted]"', () => {
    const found: string[] = [];
    lines.forEach((line, i) => secretValues(JSON.parse(line), `line ${i + 1}`, found));
    expect(found).toEqual([]);
  });

  it('the service logger censors request headers and tokens wherever they are logged', () => {
    // The session's lines carry no headers (Fastify's request serializer leaves them out), so check the censor directly.
    const captured: string[] = [];
    const logger = createLogger({ level: 'trace', pretty: false, destination: { write: (line: string) => void captured.push(line) } });
    logger.info(
      { req: { headers: { authorization: `Bearer ${OPS_KEY}`, 'x-auth-token': CB_TOKEN, cookie: `k=${READER_KEY}`, accept: '*/*' } } },
      'request headers',
    );
    logger.warn({ headers: { authorization: `Bearer ${READER_KEY}`, 'x-auth-token': CB_TOKEN } }, 'upstream request headers');
    logger.debug({ token: CB_TOKEN, apiKey: OPS_KEY, carbonBlack: { token: CB_TOKEN }, auth: { apiKey: BURST_KEY } }, 'settings');
    const [request, upstream, settings] = captured.map(
      (line) => JSON.parse(line) as Record<string, Record<string, Record<string, string>>>,
    );
    expect(request!.req!.headers).toEqual({
      authorization: '[redacted]',
      'x-auth-token': '[redacted]',
      cookie: '[redacted]',
      accept: '*/*',
    });
    expect(upstream!.headers).toEqual({ authorization: '[redacted]', 'x-auth-token': '[redacted]' });
    expect(settings).toMatchObject({
      token: '[redacted]',
      apiKey: '[redacted]',
      carbonBlack: { token: '[redacted]' },
      auth: { apiKey: '[redacted]' },
    });
    expect(captured.flatMap(leaksIn)).toEqual([]);
  });
});
