import { afterEach, describe, expect, it } from 'vitest';
import {
  binary,
  closeClients,
  cloudClient,
  complete,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  NO_DATA,
  OS_BINARY_STATES,
  recorder,
  rejection,
  results,
  row,
  STATE,
  UNSIGNED_STATES,
  type MockRequest,
  type Seen,
} from './support/cloud-fixtures.js';

/**
 * Paging and follow-up jobs. A hash is absent (unknown) only when every row
 * the query matched has been read; a hash crowded out by a popular binary is
 * asked again, alone with the other unresolved ones, in a follow-up job.
 * The client's dispatcher is this test's MockAgent, which refuses any request
 * not arranged here, and afterEach checks that every arranged one was made,
 * so each test pins the exact requests.
 */

const popular = binary('explorer.exe');
const notepad = binary('notepad.exe');
const tool = binary('tool.exe');
const rare = binary('rare.exe');

const signedPopular = row(popular, OS_BINARY_STATES, { publishers: ['Microsoft Windows'] });
const signedNotepad = row(notepad, OS_BINARY_STATES, { publishers: ['Microsoft Windows'] });
const unsignedTool = row(tool, UNSIGNED_STATES);
const unsignedRare = row(rare, UNSIGNED_STATES);

const signal = () => new AbortController().signal;

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

/** A job-creation interceptor that records the query it was asked. */
function job(jobId: string, queries: string[]): void {
  const seen: Seen[] = [];
  createJob().reply((request: MockRequest) => {
    recorder(seen, 200)(request);
    queries.push((seen[0]!.body as { query: string }).query);
    return { statusCode: 200, data: { job_id: jobId } };
  });
}

describe('pages within one job', () => {
  it('reads the next page while a hash has no row and rows remain, and stops once all are resolved', async () => {
    const queries: string[] = [];
    job(JOB_ID, queries);
    results(0, 2).reply(200, complete([signedPopular, signedPopular], { numFound: 5, numAvailable: 5 }));
    results(2, 2).reply(200, complete([signedPopular, signedNotepad], { numFound: 5, numAvailable: 5 }));
    // Row 4 is never read: nothing is left to resolve.
    const found = await cloudClient({ rowsPerPage: 2 }).searchHashes([popular.md5, notepad.md5], signal(), FAR());
    expect([...found.keys()].sort()).toEqual([popular.md5, notepad.md5].sort());
    expect(queries).toEqual([`process_hash:(${popular.md5} OR ${notepad.md5})`]);
  });

  it('starts the next page after the rows actually received', async () => {
    job(JOB_ID, []);
    results(0, 3).reply(200, complete([signedPopular, signedPopular], { numFound: 4, numAvailable: 4 }));
    results(2, 3).reply(200, complete([signedNotepad], { numFound: 4, numAvailable: 4 }));
    const found = await cloudClient({ rowsPerPage: 3 }).searchHashes([popular.md5, notepad.md5], signal(), FAR());
    expect(found.size).toBe(2);
  });

  it('reports a hash absent only after every available row was read', async () => {
    job(JOB_ID, []);
    results(0, 2).reply(200, complete([signedPopular, signedPopular], { numFound: 5, numAvailable: 5 }));
    results(2, 2).reply(200, complete([signedPopular, signedPopular], { numFound: 5, numAvailable: 5 }));
    results(4, 2).reply(200, complete([signedPopular], { numFound: 5, numAvailable: 5 }));
    const found = await cloudClient({ rowsPerPage: 2 }).searchHashes([popular.md5, notepad.md5], signal(), FAR());
    expect([...found.keys()]).toEqual([popular.md5]);
  });

  it('reports every hash absent when the job found nothing ("No data available")', async () => {
    job(JOB_ID, []);
    results().reply(200, NO_DATA);
    const found = await cloudClient().searchHashes([popular.md5, notepad.sha256], signal(), FAR());
    expect(found.size).toBe(0);
  });

  it('reads at most maxPagesPerJob pages per job, the poll answer included', async () => {
    const queries: string[] = [];
    job(JOB_ID, queries);
    results(0, 1).reply(200, complete([signedPopular], { numFound: 9, numAvailable: 9 }));
    results(1, 1).reply(200, complete([signedPopular], { numFound: 9, numAvailable: 9 }));
    results(2, 1).reply(200, complete([signedPopular], { numFound: 9, numAvailable: 9 }));
    job('follow-up', queries);
    results(0, 1, 'follow-up').reply(200, complete([signedNotepad], { numFound: 1, numAvailable: 1 }));
    const found = await cloudClient({ rowsPerPage: 1, maxPagesPerJob: 3 }).searchHashes([popular.md5, notepad.md5], signal(), FAR());
    expect(found.size).toBe(2);
    expect(queries).toEqual([`process_hash:(${popular.md5} OR ${notepad.md5})`, `process_hash:${notepad.md5}`]);
  });
});

describe('follow-up jobs for hashes crowded out', () => {
  it('asks the unresolved hashes alone when a popular binary filled every page', async () => {
    const queries: string[] = [];
    job(JOB_ID, queries);
    results(0, 2).reply(200, complete([signedPopular, signedPopular], { numFound: 3000, numAvailable: 3000 }));
    results(2, 2).reply(200, complete([signedPopular, unsignedTool], { numFound: 3000, numAvailable: 3000 }));
    job('follow-up', queries);
    results(0, 2, 'follow-up').reply(200, complete([signedNotepad], { numFound: 1, numAvailable: 1 }));
    const found = await cloudClient({ rowsPerPage: 2, maxPagesPerJob: 2 }).searchHashes(
      [popular.md5, tool.md5, notepad.md5],
      signal(),
      FAR(),
    );
    expect(queries).toEqual([`process_hash:(${popular.md5} OR ${tool.md5} OR ${notepad.md5})`, `process_hash:${notepad.md5}`]);
    expect(found.get(notepad.md5)?.states).toEqual(OS_BINARY_STATES);
    expect(found.get(tool.md5)?.states).toEqual(UNSIGNED_STATES);
    expect(found.get(popular.md5)?.publishers).toEqual(['Microsoft Windows']);
  });

  it('follows up again while the set shrinks', async () => {
    const queries: string[] = [];
    job('one', queries);
    results(0, 1, 'one').reply(200, complete([signedPopular], { numFound: 900, numAvailable: 900 }));
    job('two', queries);
    results(0, 1, 'two').reply(200, complete([unsignedTool], { numFound: 40, numAvailable: 40 }));
    job('three', queries);
    results(0, 1, 'three').reply(200, complete([unsignedRare], { numFound: 2, numAvailable: 2 }));
    job('four', queries);
    results(0, 1, 'four').reply(200, complete([signedNotepad], { numFound: 1, numAvailable: 1 }));
    const found = await cloudClient({ rowsPerPage: 1, maxPagesPerJob: 1 }).searchHashes(
      [popular.md5, tool.md5, rare.md5, notepad.md5],
      signal(),
      FAR(),
    );
    expect(queries).toEqual([
      `process_hash:(${popular.md5} OR ${tool.md5} OR ${rare.md5} OR ${notepad.md5})`,
      `process_hash:(${tool.md5} OR ${rare.md5} OR ${notepad.md5})`,
      `process_hash:(${rare.md5} OR ${notepad.md5})`,
      `process_hash:${notepad.md5}`,
    ]);
    expect(found.size).toBe(4);
  });

  it('reports a crowded-out hash absent once its own job found nothing', async () => {
    const queries: string[] = [];
    job(JOB_ID, queries);
    results(0, 2).reply(200, complete([signedPopular, signedPopular], { numFound: 700, numAvailable: 700 }));
    job('follow-up', queries);
    results(0, 2, 'follow-up').reply(200, NO_DATA);
    const found = await cloudClient({ rowsPerPage: 2, maxPagesPerJob: 1 }).searchHashes([popular.md5, notepad.md5], signal(), FAR());
    expect(queries).toEqual([`process_hash:(${popular.md5} OR ${notepad.md5})`, `process_hash:${notepad.md5}`]);
    expect([...found.keys()]).toEqual([popular.md5]);
  });

  it('pages within the follow-up too', async () => {
    job(JOB_ID, []);
    results(0, 1).reply(200, complete([signedPopular], { numFound: 99, numAvailable: 99 }));
    results(1, 1).reply(200, complete([signedPopular], { numFound: 99, numAvailable: 99 }));
    job('follow-up', []);
    results(0, 1, 'follow-up').reply(200, complete([unsignedTool], { numFound: 30, numAvailable: 30 }));
    results(1, 1, 'follow-up').reply(200, complete([signedNotepad], { numFound: 30, numAvailable: 30 }));
    const found = await cloudClient({ rowsPerPage: 1, maxPagesPerJob: 2 }).searchHashes(
      [popular.md5, tool.md5, notepad.md5],
      signal(),
      FAR(),
    );
    expect(found.size).toBe(3);
  });

  it('refuses a follow-up row about a hash only the first job asked (CB_MALFORMED_RESPONSE)', async () => {
    job(JOB_ID, []);
    results(0, 1).reply(200, complete([signedPopular], { numFound: 99, numAvailable: 99 }));
    job('follow-up', []);
    results(0, 1, 'follow-up').reply(200, complete([signedPopular], { numFound: 1, numAvailable: 1 }));
    const error = await rejection(
      cloudClient({ rowsPerPage: 1, maxPagesPerJob: 1 }).searchHashes([popular.md5, notepad.md5], signal(), FAR()),
    );
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('not asked');
  });
});

describe('more found than available', () => {
  it('follows up for a hash that could lie beyond num_available, and resolves it', async () => {
    const queries: string[] = [];
    job(JOB_ID, queries);
    results().reply(200, complete([signedPopular], { numFound: 616, numAvailable: 1 }));
    job('follow-up', queries);
    results(0, 500, 'follow-up').reply(200, complete([unsignedRare], { numFound: 3, numAvailable: 1 }));
    const found = await cloudClient().searchHashes([popular.md5, rare.md5], signal(), FAR());
    expect(queries).toEqual([`process_hash:(${popular.md5} OR ${rare.md5})`, `process_hash:${rare.md5}`]);
    expect(found.get(rare.md5)?.states).toEqual([STATE.NOT_SIGNED]);
  });

  it('reports it absent when its own job found nothing', async () => {
    job(JOB_ID, []);
    results().reply(200, complete([signedPopular], { numFound: 616, numAvailable: 1 }));
    job('follow-up', []);
    results(0, 500, 'follow-up').reply(200, NO_DATA);
    const found = await cloudClient().searchHashes([popular.md5, rare.md5], signal(), FAR());
    expect([...found.keys()]).toEqual([popular.md5]);
  });

  it('needs no follow-up when every hash has a row', async () => {
    job(JOB_ID, []);
    results().reply(200, complete([signedPopular, unsignedRare], { numFound: 616, numAvailable: 2 }));
    const found = await cloudClient().searchHashes([popular.md5, rare.md5], signal(), FAR());
    expect(found.size).toBe(2);
  });

  it.each([
    ['one hash', [rare.md5]],
    ['several hashes', [rare.md5, popular.sha256]],
  ])('refuses a job that found processes but made none available, for %s (CB_MALFORMED_RESPONSE, not unknown)', async (_label, hashes) => {
    job(JOB_ID, []);
    results().reply(200, complete([], { numFound: 12, numAvailable: 0 }));
    const error = await rejection(cloudClient().searchHashes(hashes, signal(), FAR()));
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).toContain('none of their rows available');
  });
});
