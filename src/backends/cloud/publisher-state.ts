/**
 * The signing verdict from Carbon Black Cloud's `process_publisher_state`
 * values, collected over every row read for one binary. Pure: the client
 * gathers the states, this decides.
 *
 * Rule (`X` means `FILE_SIGNATURE_STATE_X`; strings are matched exactly, upper case):
 * 1. `INVALID` present → `unsigned` (decisive `INVALID`): a signature marked
 *    invalid is never signed, whatever else is there.
 * 2. else `NOT_SIGNED` present → `unsigned` (decisive `NOT_SIGNED`) — also when
 *    rows disagree and another row said SIGNED (the union contains both): the
 *    conservative answer.
 * 3. else `SIGNED` or `CATALOG_SIGNED` present: with `VERIFIED` → `signed`
 *    (decisive `VERIFIED`); without → `unsigned` (decisive `SIGNED` or
 *    `CATALOG_SIGNED`): present but not verified is not signed.
 * 4. else (empty list, only `UNKNOWN`, only `OS`/`TRUSTED`/`CHAINED`/`VERIFIED`
 *    without a signature state, or values nobody has listed) → `unknown`
 *    (decisive `UNKNOWN` if present else null). Cloud did not say the file is
 *    signed or unsigned; unknown is not unsigned.
 *
 * `decisive` is the full state string the verdict rests on
 * (`FILE_SIGNATURE_STATE_INVALID`, ...), for logs and the answer's detail.
 * When both `SIGNED` and `CATALOG_SIGNED` are present without `VERIFIED`,
 * `SIGNED` is named.
 */

export type CloudVerdictKind = 'signed' | 'unsigned' | 'unknown';

/** Every state the Cloud SDK documents, in its order. Others may appear in future; rule 4 covers them. */
export const FILE_SIGNATURE_STATES = [
  'FILE_SIGNATURE_STATE_INVALID',
  'FILE_SIGNATURE_STATE_SIGNED',
  'FILE_SIGNATURE_STATE_VERIFIED',
  'FILE_SIGNATURE_STATE_NOT_SIGNED',
  'FILE_SIGNATURE_STATE_UNKNOWN',
  'FILE_SIGNATURE_STATE_CHAINED',
  'FILE_SIGNATURE_STATE_TRUSTED',
  'FILE_SIGNATURE_STATE_OS',
  'FILE_SIGNATURE_STATE_CATALOG_SIGNED',
] as const;

export type FileSignatureState = (typeof FILE_SIGNATURE_STATES)[number];

const INVALID: FileSignatureState = 'FILE_SIGNATURE_STATE_INVALID';
const NOT_SIGNED: FileSignatureState = 'FILE_SIGNATURE_STATE_NOT_SIGNED';
const SIGNED: FileSignatureState = 'FILE_SIGNATURE_STATE_SIGNED';
const CATALOG_SIGNED: FileSignatureState = 'FILE_SIGNATURE_STATE_CATALOG_SIGNED';
const VERIFIED: FileSignatureState = 'FILE_SIGNATURE_STATE_VERIFIED';
const UNKNOWN: FileSignatureState = 'FILE_SIGNATURE_STATE_UNKNOWN';

export function assessPublisherStates(states: readonly string[]): { kind: CloudVerdictKind; decisive: string | null } {
  const present = new Set(states);
  if (present.has(INVALID)) return { kind: 'unsigned', decisive: INVALID };
  if (present.has(NOT_SIGNED)) return { kind: 'unsigned', decisive: NOT_SIGNED };
  const signature = present.has(SIGNED) ? SIGNED : present.has(CATALOG_SIGNED) ? CATALOG_SIGNED : undefined;
  if (signature !== undefined) {
    return present.has(VERIFIED) ? { kind: 'signed', decisive: VERIFIED } : { kind: 'unsigned', decisive: signature };
  }
  return { kind: 'unknown', decisive: present.has(UNKNOWN) ? UNKNOWN : null };
}
