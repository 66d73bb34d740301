import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { CarbonBlackErrorCode } from '../../../src/backends/errors.js';
import { closedLoopbackPort, startLoopbackServer, type LoopbackServer } from '../edr/support/loopback.js';
import {
  binary,
  closeClients,
  cloudClient,
  complete,
  countingBudget,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  JOBS_PATH,
  type MockInterceptor,
  OS_BINARY_STATES,
  rejection,
  results,
  row,
} from './support/cloud-fixtures.js';

/**
 * Failures at each step of a search, mapped by exchange.ts; each rejects the
 * whole search (the guard above decides about retrying). The client itself
 * never retries: the MockAgent answers each arranged reply once, so a second attempt
 * would show up as a different error (CB_UNREACHABLE, no match).
 */

const notepad = binary('notepad.exe');
const other = binary('other.exe');

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});
type Arrange = (at: MockInterceptor) => void;

const connectionReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
/** On the real Agent a loopback server needs (the MockAgent refuses every other connection). */
const realAgent = { dispatcher: undefined };

const statusFailures: [string, CarbonBlackErrorCode, number | undefined, Arrange][] = [
  ['400', 'CB_QUERY_REJECTED', 400, (at) => at.reply(400, { reason: 'query_syntax_error' })],
  ['401', 'CB_TOKEN_REJECTED', 401, (at) => at.reply(401, '<html>login</html>')],
  ['403', 'CB_TOKEN_REJECTED', 403, (at) => at.reply(403, { success: false, message: 'missing org.search.events' })],
  ['404', 'CB_UNEXPECTED_STATUS', 404, (at) => at.reply(404, '<html>Not Found</html>')],
  ['302 (never followed)', 'CB_UNEXPECTED_STATUS', 302, (at) => at.reply(302, '', { headers: { location: 'https://login.cb.test/' } })],
  ['500', 'CB_SERVER_ERROR', 500, (at) => at.reply(500, 'Internal Server Error')],
  ['502', 'CB_SERVER_ERROR', 502, (at) => at.reply(502, 'Bad Gateway')],
  ['503 with Retry-After', 'CB_SERVER_ERROR', 503, (at) => at.reply(503, '', { headers: { 'retry-after': '7' } })],
  ['a reset connection', 'CB_UNREACHABLE', undefined, (at) => at.replyWithError(connectionReset())],
  ['no answer within timeoutMs', 'CB_TIMEOUT', undefined, (at) => at.reply(200, {}).delay(1500)],
];

describe('job creation fails', () => {
  it.each(statusFailures)('%s: %s, nothing more sent', async (_label, code, status, arrange) => {
    arrange(createJob());
    const budget = countingBudget();
    const error = await rejection(cloudClient({ budget, timeoutMs: 300 }).searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe(code);
    expect(error.upstreamStatus).toBe(status);
    expect(budget.takes).toHaveLength(1);
    expect(budget.pauses).toEqual([]);
  });

  it('names the query rejection reason', async () => {
    createJob().reply(400, { reason: 'query_syntax_error' });
    const error = await rejection(cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.message).toContain('query_syntax_error');
  });

  it('carries Retry-After of a 503 for the guard', async () => {
    createJob().reply(503, '', { headers: { 'retry-after': '7' } });
    const error = await rejection(cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.retryAfterMs).toBe(7000);
    expect(error.transient).toBe(true);
  });
});

describe('a poll fails', () => {
  it.each(statusFailures)('%s: %s, the search ends', async (_label, code, status, arrange) => {
    createJob().reply(200, { job_id: JOB_ID });
    arrange(results());
    const budget = countingBudget();
    const error = await rejection(cloudClient({ budget, timeoutMs: 300 }).searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe(code);
    expect(error.upstreamStatus).toBe(status);
    expect(budget.takes).toHaveLength(2);
  });
});

describe('a page read fails', () => {
  it.each(statusFailures)('%s: %s, the search ends', async (_label, code, status, arrange) => {
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(other, OS_BINARY_STATES)], { numFound: 2, numAvailable: 2 }));
    arrange(results(1, 1));
    const error = await rejection(
      cloudClient({ rowsPerPage: 1, timeoutMs: 300 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe(code);
    expect(error.upstreamStatus).toBe(status);
  });
});

describe('over real sockets (loopback, http)', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('runs a whole search against a loopback server over plain http', async () => {
    const paths: string[] = [];
    server = await startLoopbackServer((req: IncomingMessage, res: ServerResponse) => {
      paths.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.method === 'POST' ? { job_id: JOB_ID } : complete([row(notepad, OS_BINARY_STATES)])));
    });
    const found = await cloudClient({ ...realAgent, baseUrl: server.url }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.get(notepad.md5)?.states).toEqual(OS_BINARY_STATES);
    expect(paths).toEqual([`POST ${JOBS_PATH}`, `GET ${JOBS_PATH}/${JOB_ID}/results?start=0&rows=500`]);
  });

  it('maps a refused connection to CB_UNREACHABLE', async () => {
    const port = await closedLoopbackPort();
    const error = await rejection(
      cloudClient({ ...realAgent, baseUrl: `http://127.0.0.1:${port}` }).searchHashes([notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_UNREACHABLE');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('times out a poll the server never answers (CB_TIMEOUT)', async () => {
    server = await startLoopbackServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST') return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ job_id: JOB_ID }));
    });
    const started = Date.now();
    const error = await rejection(
      cloudClient({ ...realAgent, baseUrl: server.url, timeoutMs: 250 }).searchHashes([notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
