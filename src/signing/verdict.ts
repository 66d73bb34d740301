import { nameMatchesProgram } from './name-match.js';

/**
 * The verdict model: what the cache keeps for one binary and what an answer
 * says about it. The field names of `VerdictFields` are the API's contract.
 *
 * - `signed`: Carbon Black's binary record says `digsig_result` is exactly `Signed`.
 * - `unsigned`: Carbon Black has a record and `digsig_result` is anything else
 *   (`Expired`, `Bad Signature`, ... or a value nobody has listed yet).
 * - `unknown`: Carbon Black has no record for the md5. Not the same as unsigned.
 */

export type VerdictKind = 'signed' | 'unsigned' | 'unknown';
/**
 * Which Carbon Black data decided a verdict: EDR's binary record or the
 * seed's joined search, or Carbon Black Cloud's process search
 * (`process_publisher_state`).
 */
export type VerdictBasis = 'binary-record' | 'joined-search' | 'cloud-process-search';

/** The one `digsig_result` value that means a valid signature. */
export const SIGNED_RESULT = 'Signed';

/**
 * The signing facts of a record: the part millions of binaries share (one
 * publisher signs thousands of files), so it is stored once (see
 * signature-interner.ts). Absent fields are null, never ''.
 *
 * The signing time is per binary. The first binary seen with a signature keeps
 * its time here, so a signature only one binary carries (a program name of its
 * own) costs one object; the others sharing it get a DatedSignature.
 */
export class SignatureFacts {
  constructor(
    readonly status: string,
    readonly publisher: string | null,
    readonly issuer: string | null,
    readonly subject: string | null,
    readonly programName: string | null,
    /** digsig_sign_time of the binary these facts were first read for, whole epoch seconds (a small integer). */
    readonly signedAtSeconds: number | null,
  ) {}

  /*
   * Derived on read rather than stored: a third of real binaries carry a
   * program name of their own, so their facts are not shared, and every field
   * here costs 8 bytes on each of them (measured in the bench's memory scenario).
   */
  get kind(): 'signed' | 'unsigned' {
    return this.status === SIGNED_RESULT ? 'signed' : 'unsigned';
  }
}

/** A binary whose signature is shared facts, with a signing time of its own. */
export class DatedSignature {
  constructor(
    readonly facts: SignatureFacts,
    /** This binary's digsig_sign_time, whole epoch seconds, or null when its record has none. */
    readonly signedAtSeconds: number | null,
  ) {}
}

/**
 * A signature whose verdict the backend decided from the states Carbon Black
 * reported (Cloud's `process_publisher_state` list), kept with those states
 * so an answer shows what the rule saw. Shared like SignatureFacts: a few
 * state sets and publishers cover millions of binaries.
 */
export class StatedSignature {
  constructor(
    readonly kind: VerdictKind,
    /** The state that decided (`FILE_SIGNATURE_STATE_VERIFIED`, ...); null when none did (the verdict is unknown). */
    readonly status: string | null,
    readonly publisher: string | null,
    /** Every state Carbon Black reported, verbatim, in the order first seen. */
    readonly states: readonly string[],
    readonly basis: VerdictBasis,
  ) {}
}

/** Carbon Black has no record of the binary. One shared instance. */
export class UnknownBinary {
  static readonly instance = new UnknownBinary();
  private constructor() {}
}

/**
 * The seed's joined search found a row: signed, for the binary, whatever name
 * is asked next (the first round's rule). Keeps the lower-cased name the join
 * matched, the only name this mode can vouch for.
 */
export class JoinedSignature {
  constructor(readonly matchedName: string) {}
}

/**
 * One cache entry.
 * - binary-record mode: SignatureFacts (a record), DatedSignature (a record sharing another's facts), or UnknownBinary;
 * - Cloud: StatedSignature (processes were found), or UnknownBinary;
 * - joined-search mode: JoinedSignature, or a string: no row for that lower-cased name.
 */
export type CachedVerdict = SignatureFacts | DatedSignature | StatedSignature | UnknownBinary | JoinedSignature | string;

export function verdictKind(entry: CachedVerdict): VerdictKind {
  if (entry instanceof SignatureFacts) return entry.kind;
  if (entry instanceof StatedSignature) return entry.kind;
  if (entry instanceof DatedSignature) return entry.facts.kind;
  if (entry instanceof JoinedSignature) return 'signed';
  if (typeof entry === 'string') return 'unsigned';
  return 'unknown';
}

/**
 * Whether a cached entry answers `name`. Only a joined search's "no row" is
 * about one name; everything else is about the binary.
 */
export function entryAnswers(entry: CachedVerdict, name: string): boolean {
  return typeof entry !== 'string' || entry === name || entry === name.toLowerCase();
}

export interface SignatureView {
  status: string | null;
  publisher: string | null;
  issuer: string | null;
  subject: string | null;
  programName: string | null;
  signedAt: string | null;
  /** Cloud's raw `process_publisher_state` values; null on EDR, which reports one `digsig_result` (in `status`). */
  states: readonly string[] | null;
}

export interface VerdictFields {
  verdict: VerdictKind;
  signed: boolean;
  signature: SignatureView | null;
  nameMatchesSignature: boolean | null;
  basis: VerdictBasis;
}

/**
 * The contract fields for one entry and the caller's name.
 *
 * `nameMatchesSignature` is null when it cannot be told: the binary is
 * unknown, or the joined search did not test this name (a signed entry found
 * under another name, or `CB_JOIN_FIELD=digsig_result`, which ignores names),
 * and on Cloud, whose signature data names no program.
 * `unknownBasis`: the source's basis, which an unknown binary has no data to carry.
 */
export function verdictFields(
  entry: CachedVerdict,
  name: string,
  nameTested: boolean,
  unknownBasis: VerdictBasis = 'binary-record',
): VerdictFields {
  if (entry instanceof SignatureFacts) return recordFields(entry, isoSeconds(entry.signedAtSeconds), name);
  if (entry instanceof StatedSignature) return statedFields(entry);
  if (entry instanceof DatedSignature) return recordFields(entry.facts, isoSeconds(entry.signedAtSeconds), name);
  if (entry instanceof JoinedSignature) {
    const matches = nameTested && (entry.matchedName === name || entry.matchedName === name.toLowerCase()) ? true : null;
    return { verdict: 'signed', signed: true, signature: null, nameMatchesSignature: matches, basis: 'joined-search' };
  }
  if (typeof entry === 'string') {
    return { verdict: 'unsigned', signed: false, signature: null, nameMatchesSignature: nameTested ? false : null, basis: 'joined-search' };
  }
  return UNKNOWN_FIELDS[unknownBasis];
}

/** One frozen answer per basis: an unknown binary carries nothing of its own. */
const unknownFields = (basis: VerdictBasis): VerdictFields =>
  Object.freeze({ verdict: 'unknown', signed: false, signature: null, nameMatchesSignature: null, basis });
const UNKNOWN_FIELDS: Readonly<Record<VerdictBasis, VerdictFields>> = {
  'binary-record': unknownFields('binary-record'),
  'joined-search': unknownFields('joined-search'),
  'cloud-process-search': unknownFields('cloud-process-search'),
};

function statedFields(stated: StatedSignature): VerdictFields {
  return {
    verdict: stated.kind,
    signed: stated.kind === 'signed',
    signature: {
      status: stated.status,
      publisher: stated.publisher,
      issuer: null,
      subject: null,
      programName: null,
      signedAt: null,
      states: stated.states,
    },
    nameMatchesSignature: null,
    basis: stated.basis,
  };
}

function recordFields(facts: SignatureFacts, signedAt: string | null, name: string): VerdictFields {
  return {
    verdict: facts.kind,
    signed: facts.kind === 'signed',
    signature: {
      status: facts.status,
      publisher: facts.publisher,
      issuer: facts.issuer,
      subject: facts.subject,
      programName: facts.programName,
      signedAt,
      states: null,
    },
    nameMatchesSignature: facts.programName !== null && nameMatchesProgram(facts.programName, name),
    basis: 'binary-record',
  };
}

export function isoSeconds(seconds: number | null): string | null {
  // Carbon Black's own form: whole seconds, `Z`.
  return seconds === null ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
