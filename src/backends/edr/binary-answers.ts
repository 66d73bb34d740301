import { parseAnswer, type Answer } from '../http/answer.js';
import { binaryRecordSchema, binarySearchResponseSchema, type BinaryRecord } from './binary-record.js';

/**
 * What the binary-record answers mean. Both refuse an answer about binaries
 * that were not asked about: the server did not apply our request (or is not
 * Carbon Black), and passing that record on as ours would be a wrong answer,
 * which is worse than none.
 */

/** A `/summary` body: one record, which must be the record of `md5` (compared case-insensitively). */
export function readBinarySummary(answer: Answer, md5: string): BinaryRecord {
  const record = parseAnswer(answer, binaryRecordSchema, 'a binary record');
  if (record.md5 !== md5.toLowerCase()) throw answer.malformed('with a record for a different md5');
  return record;
}

/**
 * A binary-search body, as a Map from lower-case md5 to record, for `md5s`
 * (upper or lower case, deduplicated). Rows for one md5 may repeat if they
 * agree on `digsig_result` (the first is kept); rows that disagree are a
 * contradiction, not an answer. The request asked for as many rows as md5s,
 * so `total_results` above the rows returned means the server held some back,
 * and a missing md5 would then not prove "no record".
 */
export function readBinarySearch(answer: Answer, md5s: readonly string[]): Map<string, BinaryRecord> {
  const { results, total_results: total } = parseAnswer(answer, binarySearchResponseSchema, 'a binary search result');
  const wanted = new Set(md5s.map((md5) => md5.toLowerCase()));
  const records = new Map<string, BinaryRecord>();
  for (const record of results) {
    if (!wanted.has(record.md5)) throw answer.malformed('with a row for an md5 that was not asked about');
    const earlier = records.get(record.md5);
    if (earlier === undefined) records.set(record.md5, record);
    else if (earlier.digsigResult !== record.digsigResult) throw answer.malformed('with conflicting digsig_result rows for one md5');
  }
  if (total > results.length) {
    throw answer.malformed(`with ${results.length} of ${total} rows (the server held rows back)`);
  }
  return records;
}
