import { afterEach, describe, expect, it } from 'vitest';
import {
  API_ID,
  API_SECRET,
  binary,
  closeClients,
  cloud,
  cloudClient,
  complete,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  NO_DATA,
  ORG_KEY,
  ORIGIN,
  OS_BINARY_STATES,
  recorder,
  row,
  type Seen,
} from './support/cloud-fixtures.js';

/** What goes on the wire: paths, the org key, the auth header, the job-creation body, the results reads. */

const notepad = binary('notepad.exe');
const tool = binary('tool.exe');
const FIELDS = ['process_hash', 'process_sha256', 'process_name', 'process_publisher', 'process_publisher_state'];

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

/** Records every request to `origin`: the POST answers the job id, every GET the `answer`. */
function recordAll(origin: string, answer: object, jobId: string = JOB_ID): Seen[] {
  const seen: Seen[] = [];
  cloud(origin)
    .intercept({ path: () => true, method: 'POST' })
    .reply(recorder(seen, 200, { job_id: jobId }));
  cloud(origin)
    .intercept({ path: () => true, method: 'GET' })
    .reply(recorder(seen, 200, answer));
  return seen;
}

describe('job creation', () => {
  it('POSTs the one-hash query with the fields, rows and start, as JSON, to the org path', async () => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    const post = seen[0]!;
    expect(post.method).toBe('POST');
    expect(post.path).toBe(`/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs`);
    expect(post.body).toEqual({ query: `process_hash:${notepad.md5}`, fields: FIELDS, rows: 10_000, start: 0 });
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['accept']).toBe('application/json');
  });

  it('sends X-Auth-Token as secret/id, exactly', async () => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(seen).toHaveLength(2);
    for (const request of seen) expect(request.headers['x-auth-token']).toBe(`${API_SECRET}/${API_ID}`);
  });

  it('asks several hashes as one OR group, lower case, deduplicated, md5 and sha256 mixed', async () => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient().searchHashes(
      [notepad.md5.toUpperCase(), tool.sha256, notepad.md5, tool.sha256.toUpperCase()],
      new AbortController().signal,
      FAR(),
    );
    expect(seen[0]!.body).toEqual({ query: `process_hash:(${notepad.md5} OR ${tool.sha256})`, fields: FIELDS, rows: 10_000, start: 0 });
  });

  it('creates the job to collect 10000 rows, as the SDK does, and reads rowsPerPage rows a page', async () => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient({ rowsPerPage: 37 }).searchHashes([notepad.sha256], new AbortController().signal, FAR());
    expect(seen[0]!.body).toMatchObject({ rows: 10_000, start: 0 });
    expect(seen[1]!.path).toBe(`/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs/${JOB_ID}/results?start=0&rows=37`);
  });
});

describe('results reads', () => {
  it('GETs the job results, first page included, with the token and no body', async () => {
    const seen = recordAll(ORIGIN, complete([row(notepad, OS_BINARY_STATES)]));
    await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    const poll = seen[1]!;
    expect(poll.method).toBe('GET');
    expect(poll.path).toBe(`/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs/${JOB_ID}/results?start=0&rows=500`);
    expect(poll.headers['x-auth-token']).toBe(`${API_SECRET}/${API_ID}`);
    expect(poll.headers['content-type']).toBeUndefined();
    // No body at all: the MockAgent sees none where a server would read an empty one.
    expect(poll.body).toBeUndefined();
  });

  it('percent-encodes the job id it was given', async () => {
    const seen = recordAll(ORIGIN, NO_DATA, 'job:1.a_b-c');
    await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(seen[1]!.path).toBe(`/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs/job%3A1.a_b-c/results?start=0&rows=500`);
  });
});

describe('base URL and org key', () => {
  it.each([
    ['with a trailing slash', `${ORIGIN}/`, ''],
    ['with a path prefix', `${ORIGIN}/cbc//`, '/cbc'],
  ])('builds the paths from a base URL %s', async (_label, baseUrl, prefix) => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient({ baseUrl }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(seen.map((request) => request.path)).toEqual([
      `${prefix}/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs`,
      `${prefix}/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs/${JOB_ID}/results?start=0&rows=500`,
    ]);
  });

  it('puts the org key, percent-encoded, in every path', async () => {
    const seen = recordAll(ORIGIN, NO_DATA);
    await cloudClient({ orgKey: 'ORG~7/x' }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(seen.map((request) => request.path)).toEqual([
      '/api/investigate/v2/orgs/ORG~7%2Fx/processes/search_jobs',
      `/api/investigate/v2/orgs/ORG~7%2Fx/processes/search_jobs/${JOB_ID}/results?start=0&rows=500`,
    ]);
  });
});
