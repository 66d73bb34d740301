import { parseAnswer, type Answer } from '../http/answer.js';
import { CarbonBlackError } from '../errors.js';
import { processSearchResponseSchema } from './search-response.js';

/**
 * The verdict of the seed's joined process search: a row (or a count) means
 * signed, an empty complete answer means unsigned. `md5` is the lower-case md5 asked about.
 */
export function processSearchVerdict(answer: Answer, md5: string, host: string): boolean {
  const {
    results,
    total_results: total,
    incomplete_results: incomplete,
  } = parseAnswer(answer, processSearchResponseSchema, 'a process search result');
  // A row about another binary means the server did not apply our query (or is not Carbon Black):
  // calling that "signed" would be a wrong verdict, which is worse than no verdict.
  for (const row of results) {
    if (row.process_md5 !== undefined && row.process_md5.toLowerCase() !== md5) {
      throw answer.malformed('with a row for a different process_md5');
    }
  }
  if (results.length > 0 || total > 0) return true;
  if (incomplete === true) {
    // Some index cores did not answer, so "no row" does not prove "unsigned".
    throw new CarbonBlackError(
      'CB_SERVER_ERROR',
      `Carbon Black at ${host} answered ${answer.status} with incomplete results and no row; not a verdict`,
      { upstreamStatus: answer.status },
    );
  }
  return false;
}
