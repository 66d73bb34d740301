import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient } from '../../../src/backends/edr/client.js';
import type { CarbonBlackErrorCode } from '../../../src/backends/errors.js';
import { appidMd5, appidRecord, binarySearchEnvelope, unsignedMd5 } from './support/binary-records.js';
import { rejection, TOKEN } from './support/secrets.js';

/**
 * The API token must not surface in any error, whatever went wrong and even
 * when the server (or a proxy) echoes it back in its answer. `rejection()`
 * checks String(err), err.message, JSON.stringify(err), the stack and
 * util.inspect (what a logger prints, causes included).
 */

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const ORIGIN = 'https://cb.test';

let client: CarbonBlackClient;
beforeAll(() => {
  nock.disableNetConnect();
  client = createCarbonBlackClient({ baseUrl: ORIGIN, token: TOKEN, joinField: 'digsig_prog_name', timeoutMs: 300 });
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(async () => {
  await client.close();
  nock.enableNetConnect();
});

function answer() {
  return nock(ORIGIN).get('/api/v1/process').query(true);
}

describe('the token never appears in an error', () => {
  it.each<[CarbonBlackErrorCode, () => void]>([
    ['CB_QUERY_REJECTED', () => answer().reply(400, { reason: TOKEN })],
    ['CB_QUERY_REJECTED', () => answer().reply(400, { reason: TOKEN.slice(0, 12) })],
    ['CB_QUERY_REJECTED', () => answer().reply(400, `bad query for token ${TOKEN}`)],
    ['CB_TOKEN_REJECTED', () => answer().reply(401, `<html>token ${TOKEN} is not valid</html>`)],
    ['CB_TOKEN_REJECTED', () => answer().reply(403, { reason: TOKEN })],
    ['CB_RATE_LIMITED', () => answer().reply(429, TOKEN, { 'retry-after': '1' })],
    ['CB_SERVER_ERROR', () => answer().reply(500, `Unhandled exception for ${TOKEN}`)],
    ['CB_SERVER_ERROR', () => answer().reply(200, { results: [], total_results: 0, incomplete_results: true, echo: TOKEN })],
    ['CB_UNEXPECTED_STATUS', () => answer().reply(404, TOKEN)],
    ['CB_UNEXPECTED_STATUS', () => answer().reply(302, '', { location: `https://cb.test/login?token=${TOKEN}` })],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, `not json ${TOKEN}`)],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, { results: TOKEN, total_results: 0 })],
    ['CB_MALFORMED_RESPONSE', () => answer().reply(200, { results: [{ process_md5: TOKEN }], total_results: 1 })],
    ['CB_UNREACHABLE', () => answer().replyWithError({ code: 'ECONNRESET', message: 'socket hang up' })],
    ['CB_TIMEOUT', () => answer().delay(2000).reply(200, TOKEN)],
  ])('%s', async (code, arrange) => {
    arrange();
    const error = await rejection(client.isSigned(MD5, 'git'));
    expect(error.code).toBe(code);
  });

  it('CB_UNREACHABLE for a host nock refuses', async () => {
    const other = createCarbonBlackClient({ baseUrl: 'https://elsewhere.test', token: TOKEN, joinField: 'digsig_result', timeoutMs: 300 });
    try {
      const error = await rejection(other.isSigned(MD5, 'git'));
      expect(error.code).toBe('CB_UNREACHABLE');
    } finally {
      await other.close();
    }
  });
});

/** Arranges the server's answer on an interceptor. */
type Arrange = (scope: nock.Interceptor) => void;

/** The failures either binary call can meet, each with the token planted wherever the server could echo it. */
const sharedBinaryFailures: [CarbonBlackErrorCode, Arrange][] = [
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: TOKEN })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: TOKEN.slice(0, 12) })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, `bad request for token ${TOKEN}`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(401, `<html>token ${TOKEN} is not valid</html>`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(403, { reason: TOKEN })],
  ['CB_RATE_LIMITED', (at) => at.reply(429, TOKEN, { 'retry-after': '1' })],
  ['CB_SERVER_ERROR', (at) => at.reply(500, `Unhandled exception for ${TOKEN}`)],
  ['CB_UNEXPECTED_STATUS', (at) => at.reply(302, '', { location: `https://cb.test/login?token=${TOKEN}` })],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, `not json ${TOKEN}`)],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: TOKEN, results: TOKEN, total_results: TOKEN })],
  ['CB_UNREACHABLE', (at) => at.replyWithError({ code: 'ECONNRESET', message: 'socket hang up' })],
  ['CB_TIMEOUT', (at) => at.delay(2000).reply(200, TOKEN)],
];

describe('the token never appears in a binarySummary error', () => {
  const summary = () => nock(ORIGIN).get(`/api/v1/binary/${appidRecord.md5}/summary`);

  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...sharedBinaryFailures,
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: appidRecord.md5, digsig_result: { token: TOKEN } })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: TOKEN.slice(0, 32), digsig_result: TOKEN })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { md5: unsignedMd5.toUpperCase(), digsig_result: TOKEN })],
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
  const search = () => nock(ORIGIN).get('/api/v1/binary').query(true);

  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...sharedBinaryFailures,
    ['CB_UNEXPECTED_STATUS', (at) => at.reply(404, TOKEN)],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, binarySearchEnvelope([{ ...appidRecord, md5: TOKEN.slice(0, 32) }]))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, binarySearchEnvelope([{ md5: unsignedMd5, digsig_result: TOKEN }]))],
    [
      'CB_MALFORMED_RESPONSE',
      (at) => at.reply(200, binarySearchEnvelope([appidRecord, { ...appidRecord, digsig_result: TOKEN, signed: TOKEN }])),
    ],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { ...binarySearchEnvelope([appidRecord], 2), terms: [TOKEN] })],
  ])('%s', async (code, arrange) => {
    arrange(search());
    const error = await rejection(client.searchBinaries([appidMd5]));
    expect(error.code).toBe(code);
  });
});
