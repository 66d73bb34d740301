import type { HashKind, VerdictSource } from '../../signing/signature-service.js';
import { SignatureInterner, type RecordedSigning } from '../../signing/signature-interner.js';
import { JoinedSignature, UnknownBinary } from '../../signing/verdict.js';
import { detachedString } from '../../signing/verdict-cache.js';

/** EDR indexes binaries by md5 only. */
const MD5_ONLY: ReadonlySet<HashKind> = new Set(['md5']);
const INDEX_NOTE = 'Carbon Black EDR indexes md5';

/**
 * The EDR backend's two ways a miss is answered (`CB_VERDICT_SOURCE`). Each takes its
 * upstream call as a function, already guarded (bound, retries, breaker,
 * deadline): a source turns answers into cache entries and knows nothing of
 * HTTP, and a failure passes through as the rejection it is, never a verdict.
 */

/**
 * `binary-record`: one read of Carbon Black's binary record per missed
 * binary. No record is `unknown`; the record's digsig_result decides signed
 * or unsigned, and its digsig_prog_name answers the seed's name test for any
 * name without another call.
 */
export function binaryRecordSource(
  readRecord: (md5: string) => Promise<RecordedSigning | undefined>,
  interner: SignatureInterner = new SignatureInterner(),
): VerdictSource {
  return {
    basis: 'binary-record',
    hashKinds: MD5_ONLY,
    indexNote: INDEX_NOTE,
    nameTested: true,
    load: async (md5) => {
      const record = await readRecord(md5);
      return record === undefined ? UnknownBinary.instance : interner.entryFor(record);
    },
  };
}

/**
 * `joined-search`: the seed's method, a joined process search per miss. A row
 * is signed for the binary; no row is unsigned for that name only (another
 * name may still join). With `CB_JOIN_FIELD=digsig_result` the name is not
 * part of the query, so "no row" holds for every name.
 */
export function joinedSearchSource(
  search: (md5: string, name: string) => Promise<boolean>,
  options: { nameTested: boolean },
): VerdictSource {
  return {
    basis: 'joined-search',
    hashKinds: MD5_ONLY,
    indexNote: INDEX_NOTE,
    nameTested: options.nameTested,
    load: async (md5, name) => {
      const lowerName = detachedString(name.toLowerCase());
      return (await search(md5, name)) ? new JoinedSignature(lowerName) : lowerName;
    },
  };
}
