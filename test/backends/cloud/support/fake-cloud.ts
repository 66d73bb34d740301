import { cloud, complete, JOBS_PATH, ORIGIN } from './cloud-fixtures.js';

/**
 * A small Cloud search service on this test's MockAgent, for properties over many datasets:
 * jobs complete at once; a job matches the rows whose `process_hash` holds
 * one of the asked hashes, in dataset order; only the first `availableCap`
 * of them can be read (Cloud's num_found > num_available), paged by
 * start/rows. Written from the shared doc, independently of the client.
 */
export interface FakeCloud {
  /** The `query` of every job created, in order. */
  queries: string[];
  /** Results reads (polls and pages). */
  reads(): number;
}

const queryPattern =
  /^process_hash:(?:([0-9a-f]{32}|[0-9a-f]{64})|\(((?:[0-9a-f]{32}|[0-9a-f]{64})(?: OR (?:[0-9a-f]{32}|[0-9a-f]{64}))+)\))$/;

export function startFakeCloud(rows: readonly Record<string, unknown>[], availableCap: number): FakeCloud {
  const jobs = new Map<string, Record<string, unknown>[]>();
  const queries: string[] = [];
  let reads = 0;
  const reply = (statusCode: number, data: string | object) => ({ statusCode, data });
  cloud()
    .intercept({ path: JOBS_PATH, method: 'POST' })
    .reply(({ body }) => {
      const { query } = JSON.parse(String(body)) as { query: string };
      queries.push(query);
      const match = queryPattern.exec(query);
      if (match === null) return reply(400, { reason: 'query_syntax_error' });
      const asked = new Set((match[1] ?? match[2]!).split(' OR '));
      const jobId = `job-${jobs.size + 1}`;
      jobs.set(
        jobId,
        rows.filter((row) => (row['process_hash'] as string[]).some((hash) => asked.has(hash))),
      );
      return reply(200, { job_id: jobId });
    })
    .persist();
  cloud()
    .intercept({ path: (path) => path.startsWith(`${JOBS_PATH}/`), method: 'GET' })
    .reply(({ path }) => {
      reads++;
      const url = new URL(path, ORIGIN);
      const jobId = decodeURIComponent(url.pathname.slice(JOBS_PATH.length + 1).split('/')[0]!);
      const matched = jobs.get(jobId);
      if (matched === undefined) return reply(404, 'no such job');
      const start = Number(url.searchParams.get('start'));
      const count = Number(url.searchParams.get('rows'));
      const available = matched.slice(0, availableCap);
      return reply(200, complete(available.slice(start, start + count), { numFound: matched.length, numAvailable: available.length }));
    })
    .persist();
  return { queries, reads: () => reads };
}
