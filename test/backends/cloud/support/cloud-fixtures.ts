import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { MockAgent, type Interceptable } from 'undici';
import { expect } from 'vitest';
import { lowerCaseHeaders, type MockInterceptor, type MockRequest } from '../../../support/mock-carbon-black.js';
import { createCloudClient, type CloudClient, type CloudClientOptions } from '../../../../src/backends/cloud/client.js';
import { CarbonBlackError } from '../../../../src/backends/errors.js';
import type { RequestBudget } from '../../../../src/upstream/request-budget.js';

/**
 * Shared pieces of the Cloud client's tests. The answers are written here
 * from /work/shared/carbon-black-api.md ("Carbon Black Cloud") and the shapes
 * of the Cloud SDK's fixtures, not taken from any simulator: the client and a
 * simulator are separate readings of the API.
 */

export const ORIGIN = 'https://defense.cb.test';
export const ORG_KEY = 'WNEXFKQ7';
export const JOBS_PATH = `/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs`;
export const JOB_ID = '2c5e8a1f-3b7d-4e90-a6c4-81f2d9b07e35';

/** Shaped like real ones (24 and 10 characters), distinctive enough that any leak is unmistakable. */
export const API_SECRET = 'S3CR3Tf00dfacec0ffee5ecr';
export const API_ID = 'ID7QK2ZX9W';
export const TOKEN = `${API_SECRET}/${API_ID}`;

export interface Binary {
  md5: string;
  sha256: string;
}

/** A made-up binary: the md5 and sha256 of a label, so every test binary is distinct and realistic. */
export function binary(label: string): Binary {
  return {
    md5: createHash('md5').update(label).digest('hex'),
    sha256: createHash('sha256').update(label).digest('hex'),
  };
}

export const STATE = {
  INVALID: 'FILE_SIGNATURE_STATE_INVALID',
  SIGNED: 'FILE_SIGNATURE_STATE_SIGNED',
  VERIFIED: 'FILE_SIGNATURE_STATE_VERIFIED',
  NOT_SIGNED: 'FILE_SIGNATURE_STATE_NOT_SIGNED',
  UNKNOWN: 'FILE_SIGNATURE_STATE_UNKNOWN',
  CHAINED: 'FILE_SIGNATURE_STATE_CHAINED',
  TRUSTED: 'FILE_SIGNATURE_STATE_TRUSTED',
  OS: 'FILE_SIGNATURE_STATE_OS',
  CATALOG_SIGNED: 'FILE_SIGNATURE_STATE_CATALOG_SIGNED',
} as const;

/** The recorded states of an OS binary and of an unsigned one (the shared doc). */
export const OS_BINARY_STATES = [STATE.OS, STATE.SIGNED, STATE.TRUSTED, STATE.VERIFIED];
export const UNSIGNED_STATES = [STATE.NOT_SIGNED];

/**
 * A process row for `of`, with the keys a real row carries around the ones
 * the client reads. `process_hash` holds the sha256 then the md5 unless told otherwise.
 */
export function row(
  of: Binary,
  states: readonly string[],
  options: { publishers?: readonly string[]; hashOrder?: 'sha256-first' | 'md5-first' | 'md5-only'; device?: string } = {},
): Record<string, unknown> {
  const order = options.hashOrder ?? 'sha256-first';
  const processHash = order === 'sha256-first' ? [of.sha256, of.md5] : order === 'md5-first' ? [of.md5, of.sha256] : [of.md5];
  return {
    backend_timestamp: '2024-03-11T19:35:02.972Z',
    device_id: 4242,
    device_name: options.device ?? 'win10-lab',
    device_os: 'WINDOWS',
    org_id: ORG_KEY,
    process_guid: `${ORG_KEY}-0034d5f2-00000ba0-00000000-1d68709850fe522`,
    process_hash: processHash,
    process_name: 'c:\\program files\\tool\\tool.exe',
    process_pid: [2976],
    ...(order === 'md5-only' && { process_sha256: of.sha256 }),
    ...(options.publishers !== undefined && { process_publisher: options.publishers }),
    process_publisher_state: states,
    process_reputation: 'TRUSTED_WHITE_LIST',
    process_effective_reputation: 'TRUSTED_WHITE_LIST',
  };
}

/** A complete job's results answer. */
export function complete(
  results: readonly object[],
  counts: { numFound?: number; numAvailable?: number; contacted?: number } = {},
): Record<string, unknown> {
  const contacted = counts.contacted ?? 45;
  return {
    results,
    num_found: counts.numFound ?? results.length,
    num_available: counts.numAvailable ?? results.length,
    contacted,
    completed: contacted,
  };
}

/** A results answer while the job runs (Cloud already sends the counts seen so far). */
export function running(contacted: number, completed: number): Record<string, unknown> {
  return { results: [], num_found: 0, num_available: 0, contacted, completed };
}

/** The "No data available" answer of a job that matched nothing. */
export const NO_DATA = { ...complete([]), message: 'No data available' };

export type { MockInterceptor, MockRequest };

let agent: MockAgent | undefined;
let pendingAtClose: ReturnType<MockAgent['pendingInterceptors']> | undefined;

/**
 * This test's fake Cloud: an undici MockAgent, which every `cloudClient` takes
 * as its dispatcher, so requests go through the client's real request path and
 * stop at the HTTP boundary. One per test, created on first use; nothing else
 * reaches the network.
 */
export function mockAgent(): MockAgent {
  if (agent === undefined) {
    agent = new MockAgent();
    agent.disableNetConnect();
  }
  return agent;
}

/** Where a test arranges answers for `origin`: `cloud().intercept({ path, method, ... }).reply(...)`. */
export function cloud(origin: string = ORIGIN): Interceptable {
  return mockAgent().get(origin);
}

/** The interceptor of the job-creation POST (any body). */
export function createJob(origin: string = ORIGIN): MockInterceptor {
  return cloud(origin).intercept({ path: JOBS_PATH, method: 'POST' });
}

/** The interceptor of one results read. */
export function results(start = 0, rows = 500, jobId: string = JOB_ID, origin: string = ORIGIN): MockInterceptor {
  return cloud(origin).intercept({
    path: `${JOBS_PATH}/${encodeURIComponent(jobId)}/results`,
    method: 'GET',
    query: { start: String(start), rows: String(rows) },
  });
}

/** What a request carried, as recorded by `recorder`. */
export interface Seen {
  method: string;
  path: string;
  headers: Record<string, unknown>;
  body: unknown;
}

/** The request bodies MockAgent hands over: parsed JSON when it is JSON. */
function parseBody(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** A MockAgent reply callback that records the request before answering `status`, `body`. */
export function recorder(seen: Seen[], status: number, body: string | object = '') {
  return (request: MockRequest) => {
    seen.push({ method: request.method, path: request.path, headers: lowerCaseHeaders(request.headers), body: parseBody(request.body) });
    return { statusCode: status, data: body };
  };
}

export interface CountingBudget extends RequestBudget {
  takes: { signal: AbortSignal; deadlineAt: number }[];
  pauses: number[];
}

/** A budget that always has room (but honours the signal), counting takes and recording pauses. */
export function countingBudget(): CountingBudget {
  const takes: { signal: AbortSignal; deadlineAt: number }[] = [];
  const pauses: number[] = [];
  return {
    takes,
    pauses,
    take(signal, deadlineAt) {
      signal.throwIfAborted();
      takes.push({ signal, deadlineAt });
      return Promise.resolve();
    },
    pauseFor(ms) {
      pauses.push(ms);
    },
    usage: () => ({ used: takes.length, limit: Number.POSITIVE_INFINITY, pausedUntil: 0 }),
  };
}

/** A deadline far enough away never to matter. */
export const FAR = () => Date.now() + 60_000;

const created: CloudClient[] = [];

/** A client for ORIGIN on this test's MockAgent, with fast polling; closed by `closeClients`. */
export function cloudClient(overrides: Partial<CloudClientOptions> = {}): CloudClient {
  const client = createCloudClient({
    baseUrl: ORIGIN,
    orgKey: ORG_KEY,
    apiId: API_ID,
    apiSecret: API_SECRET,
    timeoutMs: 2000,
    budget: countingBudget(),
    pollIntervalMs: 5,
    maxPollIntervalMs: 10,
    // A test of a real loopback server passes its own dispatcher (or undefined: the client's default Agent).
    ...(!('dispatcher' in overrides) && { dispatcher: mockAgent() }),
    ...overrides,
  });
  created.push(client);
  return client;
}

/**
 * Closes this test's clients, and with them its MockAgent (a client closes its
 * dispatcher). What the agent still expected is noted first, since closing
 * forgets it: `expectNoPendingMocks` checks that note.
 */
export async function closeClients(): Promise<void> {
  pendingAtClose = agent?.pendingInterceptors();
  const clients = created.splice(0);
  await Promise.all(clients.map((client) => client.close()));
  // Closing it twice throws; with no client, nothing has closed it yet.
  if (clients.length === 0) await agent?.close();
  agent = undefined;
}

/** For afterEach, after `closeClients`: every arranged answer was asked for; the next test starts with a new agent. */
export function expectNoPendingMocks(): void {
  const pending = pendingAtClose ?? agent?.pendingInterceptors() ?? [];
  pendingAtClose = undefined;
  expect(pending.map((interceptor) => `${interceptor.method} ${interceptor.origin}${interceptor.path}`)).toEqual([]);
}

/** Awaits a rejection and checks it is a CarbonBlackError carrying neither the API secret nor the API ID anywhere visible. */
export async function rejection(promise: Promise<unknown>): Promise<CarbonBlackError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(CarbonBlackError);
  return error as CarbonBlackError;
}

/** Awaits a rejection of any kind and checks the credentials appear nowhere in it. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${inspect(value)}`);
    },
    (reason: unknown) => reason,
  );
  expectNoSecrets(error);
  return error;
}

export function expectNoSecrets(error: unknown): void {
  const err = error as Error;
  const shown = [String(err), err.message, JSON.stringify(err), err.stack ?? '', inspect(err, { depth: 10, showHidden: true })];
  for (const text of shown) {
    expect(text).not.toContain(API_SECRET);
    expect(text).not.toContain(API_ID);
  }
}
