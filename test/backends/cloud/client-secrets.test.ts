import { afterEach, describe, expect, it } from 'vitest';
import type { CarbonBlackErrorCode } from '../../../src/backends/errors.js';
import {
  API_ID,
  API_SECRET,
  binary,
  closeClients,
  cloudClient,
  complete,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  OS_BINARY_STATES,
  rejection,
  results,
  row,
  TOKEN,
  type MockInterceptor,
} from './support/cloud-fixtures.js';

/**
 * Neither the API secret nor the API ID surfaces in any error, whatever went
 * wrong and at whichever step, even when the server (or a proxy) echoes them
 * back. `rejection()` checks String(err), err.message, JSON.stringify(err),
 * the stack and util.inspect (what a logger prints, causes included) for both.
 */

const notepad = binary('notepad.exe');
const other = binary('other.exe');

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

type Arrange = (at: MockInterceptor) => void;

/** Failures any request can meet, the credentials planted wherever a server could echo them. */
const anyRequest: [CarbonBlackErrorCode, Arrange][] = [
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: API_SECRET })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: API_ID })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: API_ID.slice(0, 6) })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: API_SECRET.slice(4, 16) })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, { reason: TOKEN })],
  ['CB_QUERY_REJECTED', (at) => at.reply(400, `bad request for ${TOKEN}`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(401, `<html>key ${API_SECRET} for ${API_ID} is not valid</html>`)],
  ['CB_TOKEN_REJECTED', (at) => at.reply(403, { reason: TOKEN, id: API_ID })],
  ['CB_SERVER_ERROR', (at) => at.reply(500, `Unhandled exception for ${TOKEN}`)],
  ['CB_SERVER_ERROR', (at) => at.reply(503, API_SECRET, { headers: { 'retry-after': '1' } })],
  ['CB_UNEXPECTED_STATUS', (at) => at.reply(404, `no job for ${TOKEN}`)],
  [
    'CB_UNEXPECTED_STATUS',
    (at) => at.reply(302, '', { headers: { location: `https://login.cb.test/?id=${API_ID}&secret=${API_SECRET}` } }),
  ],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, `not json ${TOKEN}`)],
  ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { job_id: { secret: API_SECRET }, contacted: API_ID, results: TOKEN })],
  ['CB_UNREACHABLE', (at) => at.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))],
  ['CB_TIMEOUT', (at) => at.reply(200, TOKEN).delay(1500)],
];

describe('job creation', () => {
  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...anyRequest,
    ['CB_RATE_LIMITED', (at) => at.reply(429, TOKEN, { headers: { 'retry-after': '1' } })],
    // A job id echoing a credential would put it in every later URL: refused, and not echoed either.
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { job_id: API_SECRET })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { job_id: `job-${API_ID}-1` })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { job_id: TOKEN })],
  ])('%s', async (code, arrange) => {
    arrange(createJob());
    const error = await rejection(cloudClient({ timeoutMs: 300 }).searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe(code);
  });
});

describe('polls', () => {
  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...anyRequest,
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { contacted: TOKEN, completed: API_SECRET })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([{ process_hash: [TOKEN] }]))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([{ process_hash: [API_SECRET, API_ID] }]))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([{ ...row(notepad, OS_BINARY_STATES), process_sha256: API_SECRET }]))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([{ ...row(notepad, OS_BINARY_STATES), process_publisher: TOKEN }]))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { ...complete([]), num_found: API_ID })],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, { ...complete([]), num_found: 3, message: TOKEN })],
  ])('%s', async (code, arrange) => {
    createJob().reply(200, { job_id: JOB_ID });
    arrange(results());
    const error = await rejection(cloudClient({ timeoutMs: 300 }).searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe(code);
  });

  it('a 429 echoing them is survived, and the failure after it still carries neither', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(429, `slow down ${TOKEN}`, { headers: { 'retry-after': '0' } });
    results().reply(500, `still failing for ${API_SECRET}`);
    const error = await rejection(cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe('CB_SERVER_ERROR');
  });
});

describe('page reads', () => {
  it.each<[CarbonBlackErrorCode, Arrange]>([
    ...anyRequest,
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([{ process_hash: [API_ID] }], { numFound: 2, numAvailable: 2 }))],
    ['CB_MALFORMED_RESPONSE', (at) => at.reply(200, complete([], { numFound: 2, numAvailable: 2 }))],
  ])('%s', async (code, arrange) => {
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(other, OS_BINARY_STATES)], { numFound: 2, numAvailable: 2 }));
    arrange(results(1, 1));
    const error = await rejection(
      cloudClient({ timeoutMs: 300, rowsPerPage: 1 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe(code);
  });
});

describe('conclusions drawn from answers', () => {
  it('processes found but none available', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, { ...complete([], { numFound: 5, numAvailable: 0 }), message: TOKEN });
    const error = await rejection(cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
  });

  it('a closed client', async () => {
    const client = cloudClient();
    await client.close();
    const error = await rejection(client.searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe('CB_UNREACHABLE');
  });

  it('a host the MockAgent refuses', async () => {
    const error = await rejection(
      cloudClient({ baseUrl: 'https://elsewhere.cb.test' }).searchHashes([notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_UNREACHABLE');
  });
});
