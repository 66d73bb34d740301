import { z } from 'zod';

/**
 * One row of a Cloud process search, as much of it as a signing answer
 * depends on. A loose object: Cloud rows carry dozens of keys (device_*,
 * ttp, ...) that come and go between releases, and an unknown key must never
 * turn an answer into a failure. `process_name` is asked for (it makes a row
 * readable in a capture) but not read, so it is not checked either.
 *
 * `process_hash` is required: the query is on it, so a row without it cannot
 * be the answer to our query. It holds the md5 and usually the sha256, in
 * either order (the SDK's fixtures show both, and rows with only the md5 next
 * to a `process_sha256`).
 */
export const processRowSchema = z.looseObject({
  process_hash: z.array(z.string()),
  process_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/)
    .optional(),
  process_publisher: z.array(z.string()).optional(),
  process_publisher_state: z.array(z.string()).optional(),
});

export type ProcessRow = z.output<typeof processRowSchema>;

const md5Pattern = /^[0-9a-f]{32}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Every hash the row is about, lower case: the `process_hash` entries and
 * `process_sha256`. A row answers an asked hash when that hash is one of them.
 */
export function rowHashes(row: ProcessRow): string[] {
  const hashes = row.process_hash.map((hash) => hash.toLowerCase());
  if (row.process_sha256 !== undefined) hashes.push(row.process_sha256.toLowerCase());
  return hashes;
}

/** The 32-hex entry of `process_hash`, lower case, or null when the row has none. */
export function rowMd5(row: ProcessRow): string | null {
  return row.process_hash.map((hash) => hash.toLowerCase()).find((hash) => md5Pattern.test(hash)) ?? null;
}

/** `process_sha256`, else the 64-hex entry of `process_hash`, lower case, or null when the row has neither. */
export function rowSha256(row: ProcessRow): string | null {
  if (row.process_sha256 !== undefined) return row.process_sha256.toLowerCase();
  return row.process_hash.map((hash) => hash.toLowerCase()).find((hash) => sha256Pattern.test(hash)) ?? null;
}
