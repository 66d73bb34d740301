import { z } from 'zod';
import { parseAnswer, type Answer } from '../http/answer.js';
import { processRowSchema, rowHashes, type ProcessRow } from './process-row.js';

/**
 * What the search-job answers mean. Loose objects throughout: only the keys
 * the client reads are declared, every other key (`message` such as "No data
 * available", `query`, `search_initiated_time`, ...) passes through unchecked.
 * A missing or mistyped declared key is CB_MALFORMED_RESPONSE naming the key,
 * never its value (parseAnswer).
 */

/**
 * Job ids are UUIDs today. Anything of safe characters is accepted, so a
 * format change does not break the client, but nothing that could change the
 * meaning of the URL it is put into (it is also percent-encoded there).
 */
const jobIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const count = z.number().int().nonnegative();

const jobCreatedSchema = z.looseObject({
  job_id: z.string().regex(jobIdPattern),
});

/** Every results answer carries the job's progress; while it runs, the rest may be missing. */
const jobProgressSchema = z.looseObject({
  contacted: count,
  completed: count,
});

const resultsPageSchema = z.looseObject({
  results: z.array(processRowSchema),
  num_found: count,
  num_available: count,
});

/** One page of a finished job's results. */
export interface ResultsPage {
  /** The HTTP status it came with, for errors concluded from it later. */
  status: number;
  rows: ProcessRow[];
  /** Processes the query matched. */
  numFound: number;
  /** Rows that can be read (`start` + `rows` beyond it yield nothing); may be below numFound. */
  numAvailable: number;
}

/**
 * The job id of a `POST .../search_jobs` answer. `secrets` are the API secret
 * and id: a server (or proxy) echoing them back as a job id would put them in
 * every later URL, so such an answer is refused as not being a job.
 */
export function readJobId(answer: Answer, secrets: readonly string[]): string {
  const { job_id: jobId } = parseAnswer(answer, jobCreatedSchema, 'a search job');
  if (secrets.some((secret) => jobId.includes(secret))) throw answer.malformed('with a job_id that is not a job id');
  return jobId;
}

/**
 * A poll: undefined while the job runs, else its first page (the poll asks
 * for `start=0&rows=<rowsPerPage>`, so the answer that says "complete" already
 * holds the first page). Complete means at least one backend was contacted and
 * all contacted ones have answered: `contacted` is 0 until the job has started.
 */
export function readJobProgress(answer: Answer, asked: ReadonlySet<string>): ResultsPage | undefined {
  const { contacted, completed } = parseAnswer(answer, jobProgressSchema, 'a search job status');
  if (contacted === 0 || completed < contacted) return undefined;
  return readResultsPage(answer, asked, 0);
}

/**
 * A results page read at `start`. Refused as malformed: a row about none of
 * the `asked` hashes (the server answered about something not asked, and
 * passing it on as ours would be a wrong verdict), and an empty page where
 * the server said rows are available (the paging would make no progress).
 */
export function readResultsPage(answer: Answer, asked: ReadonlySet<string>, start: number): ResultsPage {
  const page = parseAnswer(answer, resultsPageSchema, 'a search job result');
  for (const row of page.results) {
    if (!rowHashes(row).some((hash) => asked.has(hash))) throw answer.malformed('with a row for a hash that was not asked about');
  }
  if (page.results.length === 0 && start < page.num_available) {
    throw answer.malformed(`with no row at start ${start} of ${page.num_available} available`);
  }
  return { status: answer.status, rows: page.results, numFound: page.num_found, numAvailable: page.num_available };
}
