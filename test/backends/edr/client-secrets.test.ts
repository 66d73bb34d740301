import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient } from '../../../src/backends/edr/client.js';
import type { CarbonBlackErrorCode } from '../../../src/backends/errors.js';
import { appidMd5, appidRecord, binarySearchEnvelope, unsignedMd5 } from './support/binary-records.js';
import { rejection, TOKEN } from './support/secrets.js';
import { JSON_REPLY } from '../../support/mock-carbon-black.js';

/**
 * The API token must not surface in any error, whatever went wrong and even
 * when the server (or a proxy) echoes it back in its answer. `rejection()`
 * checks String(err), err.message, JSON.stringify(err), the stack and
 * util.inspect (what a logger prints, causes included).
 *
 * Carbon Black is faked by an undici MockAgent, which each test's client takes
 * as its dispatcher: requests go through the client's real request path and
 * stop at the HTTP boundary.
 */

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const ORIGIN = 'https://cb.test';

/** This test's fake Carbon Black; nothing else reaches the network through it. */
let agent: MockAgent;
/** This test's client of the agent; closing it closes the agent. */
let client: CarbonBlackClient;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = createCarbonBlackClient({ baseUrl: ORIGIN, token: TOKEN, joinField: 'digsig_prog_name', timeoutMs: 300, dispatcher: agent });
});
afterEach(async () => {
  // Read before closing: closing the agent forgets its interceptors. Every test's answer must have been asked for,
  // or a refused request (CB_UNREACHABLE) could pass for the failure the test arranged.
  const pending = agent.pendingInterceptors();
  await client.close();
  expect(pending).toEqual([]);
});

/** Matches `path` with any query string, or none. */
function anyQuery(path: string): (requested: string) => boolean {
  return (requested) => requested === path || requested.startsWith(`${path}?`);
}

/** A socket error as undici reports one: an Error with a `code`. */
function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function answer() {
  return agent.get(ORIGIN).intercept({ path: anyQuery('/api/v1/process'), method: 'GET' });
}

describe('the token never appears in an error', () => {
  it.each<[CarbonBlackErrorCode, () => void]>([
    ['CB_QUERY_REJECTED', () => answer().reply(400, { reason: TOKEN }, JSON_REPLY)],
    ['CB_QUERY_REJECTED', () => answer().reply(400, { reason: TOKEN.slice(0, 12) }, JSON_REPLY)],
    ['CB_QUERY_REJECTED', () => answer().reply(400, `bad query for token ${TOKEN}`)],
    ['CB_TOKEN_REJECTED', () => answer().reply(401, `<html>token ${TOKEN} is not valid</html>`)],
    ['CB_TOKEN_REJECTED', () => answer().reply(403, { reason: TOKEN }, JSON_REPLY)],
    ['CB_RATE_LIMITED', () => answer().reply(429, TOKEN, { headers: { 'retry-after': '1' } })],
    ['CB_SERVER_ERROR', () => answer().reply(500, `Unhandled exception for ${TOKEN}`)],
    ['CB_SERVER_ERROR', () => answer().reply(200, { results: [], total_results: 0, incomplete_results: true, echo: TOKEN }, JSON_REPLY)],
    ['CB_UNEXPECTED_STATUS', () => answer().reply(404, TOKEN)],
    ['CB_UNEXPECTED_STATUS', () => answer().reply(302, '', { headers: { location: `https://cb.test/login?token=${TOKEN}` } })],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, `not json ${TOKEN}`)],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, { results: TOKEN, total_results: 0 }, JSON_REPLY)],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, { results: [{ process_md5: TOKEN }], total_results: 1 }, JSON_REPLY)],
    ['CB_UNREACHABLE', () => answer().replyWithError(socketError('ECONNRESET', 'socket hang up'))],
    ['CB_TIMEOUT', () => answer().reply(200, TOKEN).delay(2000)],
  ])('%s', async (code, arrange) => {
    arrange();
    const error = await rejection(client.isSigned(MD5, 'git'));
    expect(error.code).toBe(code);
  });

  it('CB_UNREACHABLE for a host the MockAgent refuses', async () => {
    // A MockAgent of its own, with no interceptor at all and no net connect: it refuses every request.
    const refusing = new MockAgent();
    refusing.disableNetConnect();
    const other = createCarbonBlackClient({
      baseUrl: 'https://elsewhere.test',
      token: TOKEN,
      joinField: 'digsig_result',
      timeoutMs: 300,
      dispatcher: refusing,
    });
    try {
      const error = await rejection(other.isSigned(MD5, 'git'));
      expect(error.code).toBe('CB_UNREACHABLE');
    } finally {
      await other.close();
    }
  });
});

/** Arranges the server's answer on an interceptor. */
type Arrange = (scope: ReturnType<ReturnType<MockAgent['get']>['intercept']>) => void;

/** The failures either binary call can meet, each with the token planted wherever the server could echo it. */
const sharedBinaryFailures: [CarbonBlackErrorCode, Arrange][] = [
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: TOKEN }, JSON_REPLY)],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: TOKEN.slice(0, 12) }, JSON_REPLY)],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, `bad request for token ${TOKEN}`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(401, `<html>token ${TOKEN} is not valid</html>`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(403, { reason: TOKEN }, JSON_REPLY)],
  ['CB_RATE_LIMITED', (at) => at.reply(429, TOKEN, { headers: { 'retry-after': '1' } })],
  ['CB_SERVER_ERROR', (at) => at.reply(500, `Unhandled exception for ${TOKEN}`)],
  ['CB_UNEXPECTED_STATUS', (at) => at.reply(302, '', { headers: { location: `https://cb.test/login?token=${TOKEN}` } })],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, `not json ${TOKEN}`)],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: TOKEN, results: TOKEN, total_results: TOKEN }, JSON_REPLY)],
  ['CB_UNREACHABLE', (at) => at.replyWithError(socketError('ECONNRESET', 'socket hang up'))],
  ['CB_TIMEOUT', (at) => at.reply(200, TOKEN).delay(2000)],
];

describe('the token never appears in a binarySummary error', () => {
  const summary = () => agent.get(ORIGIN).intercept({ path: `/api/v1/binary/${appidRecord.md5}/summary`, method: 'GET' });

  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...sharedBinaryFailures,
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: appidRecord.md5, digsig_result: { token: TOKEN } }, JSON_REPLY)],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: TOKEN.slice(0, 32), digsig_result: TOKEN }, JSON_REPLY)],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: unsignedMd5.toUpperCase(), digsig_result: TOKEN }, JSON_REPLY)],
  ])('%s', async (code, arrange) => {
    arrange(summary());
    const error = await rejection(client.binarySummary(appidMd5));
    expect(error.code).toBe(code);
  });

  it('a 404 that echoes the token is still just "no record"', async () => {
    summary().reply(404, `<html>no binary for ${TOKEN}</html>`);
    await expect(client.binarySummary(appidMd5)).resolves.toBeUndefined();
  });
});

describe('the token never appears in a searchBinaries error', () => {
  const search = () => agent.get(ORIGIN).intercept({ path: anyQuery('/api/v1/binary'), method: 'GET' });

  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...sharedBinaryFailures,
    ['CB_UNEXPECTED_STATUS', (at) => at.reply(404, TOKEN)],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, binarySearchEnvelope([{ ...appidRecord, md5: TOKEN.slice(0, 32) }]), JSON_REPLY)],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, binarySearchEnvelope([{ md5: unsignedMd5, digsig_result: TOKEN }]), JSON_REPLY)],
    [
      'CB_MALFORMED_RESPONSE',
      (at) => at.reply(200, binarySearchEnvelope([appidRecord, { ...appidRecord, digsig_result: TOKEN, signed: TOKEN }]), JSON_REPLY),
    ],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { ...binarySearchEnvelope([appidRecord], 2), terms: [TOKEN] }, JSON_REPLY)],
  ])('%s', async (code, arrange) => {
    arrange(search());
    const error = await rejection(client.searchBinaries([appidMd5]));
    expect(error.code).toBe(code);
  });
});
