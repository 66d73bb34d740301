import { z } from 'zod';
import { parseSignTime } from './sign-time.js';

/**
 * A Carbon Black binary record (`/api/v1/binary/{MD5}/summary`, or one row of
 * a `/api/v1/binary` search), as much of it as signing depends on. A loose
 * object: records carry dozens of other keys (`observed_filename`,
 * `host_count`, `endpoint`, ...) whose types are not ours to police, and
 * server versions add and drop them.
 *
 * The `digsig_*` details exist only when the signature has them: on an
 * unsigned record the keys are absent. A value that is not a non-empty string
 * (null, a number, '') is read as absent too, so `BinaryRecord` never holds ''.
 */

/** A non-empty string, else undefined (absent, null, a number, ''): never a reason to refuse a record. */
const optionalText = z
  .unknown()
  .transform((value): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined))
  .optional();

/** The keys of a record row the client reads; every other key passes through unchecked. */
export const binaryRecordRowSchema = z.looseObject({
  /** Upper case in records; case is not checked, the digits are. */
  md5: z.string().regex(/^[0-9a-fA-F]{32}$/),
  /** The verdict: `Signed`, `Unsigned`, `Expired`, `Bad Signature`, ... */
  digsig_result: optionalText,
  /** Repeats `digsig_result`; read only when that is missing. */
  signed: optionalText,
  digsig_publisher: optionalText,
  digsig_issuer: optionalText,
  digsig_subject: optionalText,
  digsig_prog_name: optionalText,
  /** ISO date-time, GMT. */
  digsig_sign_time: optionalText,
});

export type BinaryRecordRow = z.output<typeof binaryRecordRowSchema>;

export interface BinaryRecord {
  /** Lower-case md5 (records carry it upper case). */
  md5: string;
  /** `digsig_result` verbatim; when that key is absent, the `signed` key (which repeats it). */
  digsigResult: string;
  /** Present only when the record has a non-empty string for the key; never ''. */
  publisher: string | undefined;
  issuer: string | undefined;
  subject: string | undefined;
  programName: string | undefined;
  /** `digsig_sign_time` (ISO, GMT) as epoch ms; undefined when absent, empty or unparseable. */
  signedAtMs: number | undefined;
}

/**
 * A record row parsed into a BinaryRecord. A row with no verdict (neither
 * `digsig_result` nor `signed` a non-empty string) fails with a custom issue
 * at `digsig_result`: such a record says nothing about signing, and guessing
 * "unsigned" from it would be a verdict the server never gave.
 */
export const binaryRecordSchema = binaryRecordRowSchema.transform((row, ctx): BinaryRecord => {
  const digsigResult = row.digsig_result ?? row.signed;
  if (digsigResult === undefined) {
    ctx.addIssue({ code: 'custom', path: ['digsig_result'], message: 'a record with neither digsig_result nor signed' });
    return z.NEVER;
  }
  return {
    md5: row.md5.toLowerCase(),
    digsigResult,
    publisher: row.digsig_publisher,
    issuer: row.digsig_issuer,
    subject: row.digsig_subject,
    programName: row.digsig_prog_name,
    signedAtMs: parseSignTime(row.digsig_sign_time),
  };
});

/**
 * The binary-search envelope (`GET /api/v1/binary`): `{terms, results,
 * total_results, highlights, facets, elapsed, start}`. Only `results` and
 * `total_results` are read; the rest passes unchecked.
 */
export const binarySearchResponseSchema = z.looseObject({
  results: z.array(binaryRecordSchema),
  total_results: z.number().int().nonnegative(),
});

export type BinarySearchResponse = z.output<typeof binarySearchResponseSchema>;
