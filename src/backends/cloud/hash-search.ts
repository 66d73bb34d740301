import { malformedAnswer } from '../http/answer.js';
import { SigningCollector, type CloudBinarySigning } from './binary-signing.js';
import { runSearchJob, type SearchJobContext } from './search-job.js';

/**
 * Resolves every asked hash to its signing, or proves it has no process, over
 * as many jobs as that takes. Never reports a hash unknown because of paging.
 *
 * - A hash is resolved once a row for it has been read. Rows are matched to
 *   asked hashes through `process_hash` (its md5 or sha256 entry) and
 *   `process_sha256`.
 * - Within a job, pages are read only while some asked hash is unresolved and
 *   rows remain (`start + rows read < num_available`), up to maxPagesPerJob
 *   pages (the poll's complete answer is the first).
 * - A hash is absent (unknown) ONLY when its job read every row the query
 *   matched: every available row was read and `num_found <= num_available`
 *   (so also when num_found is 0).
 * - Otherwise the unresolved hashes were crowded out: a popular binary can
 *   fill every page a job may read, or Cloud found more rows than it makes
 *   available and the missing ones may lie beyond `num_available`. Then ONE
 *   follow-up job asks for just the unresolved hashes, and so on while the
 *   set strictly shrinks. It always does when a row was read, since every row
 *   must be about a hash the job asked for (search-job-answers.ts refuses any
 *   other), so this ends after at most one job per hash; and a single
 *   unresolved hash resolves on its job's first row.
 * - A job that read no row and cannot prove absence (Cloud found processes
 *   but made none available) shrinks nothing: that answer is not a verdict,
 *   so it is CB_MALFORMED_RESPONSE rather than "unknown".
 */
export async function searchAllHashes(context: SearchJobContext, hashes: readonly string[]): Promise<Map<string, CloudBinarySigning>> {
  const collector = new SigningCollector();
  let pending = hashes;
  for (;;) {
    const { unresolved, allRead, status } = await runSearchJob(context, pending, collector);
    if (unresolved.length === 0 || allRead) return collector.signings();
    if (unresolved.length >= pending.length) {
      throw malformedAnswer(context.endpoints.host, status, 'with processes found but none of their rows available');
    }
    pending = unresolved;
  }
}
