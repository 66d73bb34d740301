import type { HashKind } from '../signing/signature-service.js';
import { LONE_SURROGATE, MAX_NAME_LENGTH, md5ItemSchema, sha256ItemSchema } from './schemas.js';

/**
 * Checks one batch item at a time, so that a malformed item (Carbon Black's
 * 30-zero `parent_md5`, an empty name) costs only its own verdict.
 *
 * Valid items take a fast path of plain tests that accepts exactly what
 * `md5ItemSchema` / `sha256ItemSchema` accept (a property test holds them
 * together); only an invalid item goes through zod, for its message.
 */

export interface ValidItem {
  /** The md5 or sha256, lower case. */
  hash: string;
  kind: HashKind;
  name: string;
}

export interface InvalidItem {
  /** The md5 as given when it was a string (lower-cased when valid), else null. */
  md5: string | null;
  /** The sha256 likewise, present only when the item had a `sha256` key. */
  sha256?: string | null;
  name: string | null;
  error: { status: 400; code: 'INVALID_REQUEST'; title: string; detail: string; field: string; retryable: false };
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1F\x7F-\x9F]/;

/** Exactly what `nameSchema` accepts, without zod: also the single lookup's fast check (schema-compilers.ts). */
export function isValidName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length >= 1 && name.length <= MAX_NAME_LENGTH && !CONTROL.test(name) && !LONE_SURROGATE.test(name)
  );
}

/**
 * Whether `text` is `length` hexadecimal digits of either case: what the
 * schemas' MD5 and SHA256 patterns accept. A loop, because the regular
 * expression was about 6 % of a cached 1000-item batch's CPU (the bench's
 * profile) and the loop about half of that.
 */
export function isHexOfLength(text: string, length: number): boolean {
  if (text.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) continue; // 0-9
    const lower = code | 0x20; // A-F to a-f; nothing else lands in a-f
    if (lower >= 0x61 && lower <= 0x66) continue;
    return false;
  }
  return true;
}

/**
 * The item as a valid hash and name, or its error result. `indexes` says
 * which hash kinds the backend looks up, and `indexNote` how to say so
 * ("Carbon Black EDR indexes md5").
 */
export function checkBatchItem(item: unknown, indexes: ReadonlySet<HashKind>, indexNote: string): ValidItem | InvalidItem {
  if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
    const { md5, sha256, name } = item as { md5?: unknown; sha256?: unknown; name?: unknown };
    if (isValidName(name) && hasTwoKeys(item)) {
      if (typeof md5 === 'string' && isHexOfLength(md5, 32)) {
        if (indexes.has('md5')) return { hash: md5.toLowerCase(), kind: 'md5', name };
      } else if (typeof sha256 === 'string' && isHexOfLength(sha256, 64)) {
        if (indexes.has('sha256')) return { hash: sha256.toLowerCase(), kind: 'sha256', name };
        return unindexed(sha256.toLowerCase(), name, indexNote);
      }
    }
  }
  return invalidItem(item);
}

function hasTwoKeys(item: object): boolean {
  return ownKeyCount(item) === 2;
}

/** Own enumerable keys, counted without the array Object.keys would allocate. */
export function ownKeyCount(item: object): number {
  let count = 0;
  for (const key in item) {
    if (Object.hasOwn(item, key)) count++;
  }
  return count;
}

function unindexed(sha256: string, name: string, indexNote: string): InvalidItem {
  return {
    md5: null,
    sha256,
    name,
    error: {
      status: 400,
      code: 'INVALID_REQUEST',
      title: 'Invalid request',
      detail: `"sha256" cannot be looked up: ${indexNote}; send the binary's md5`,
      field: 'sha256',
      retryable: false,
    },
  };
}

function invalidItem(item: unknown): InvalidItem {
  const isObject = typeof item === 'object' && item !== null && !Array.isArray(item);
  const fields = isObject ? (item as Record<string, unknown>) : {};
  const md5 = typeof fields.md5 === 'string' ? (isHexOfLength(fields.md5, 32) ? fields.md5.toLowerCase() : fields.md5) : null;
  const hasSha256 = Object.hasOwn(fields, 'sha256');
  const sha256 =
    typeof fields.sha256 === 'string' ? (isHexOfLength(fields.sha256, 64) ? fields.sha256.toLowerCase() : fields.sha256) : null;
  const name = typeof fields.name === 'string' ? fields.name : null;
  let field = 'item';
  let message = 'must be an object with "md5" (or "sha256") and "name"';
  if (isObject) {
    if (hasSha256 && Object.hasOwn(fields, 'md5')) {
      field = 'sha256';
      message = 'must not be given with "md5": send one hash per item';
    } else {
      // The schema the item's own hash key calls for, so its message is about that key.
      const parsed = (hasSha256 ? sha256ItemSchema : md5ItemSchema).safeParse(item);
      const issue = parsed.success ? undefined : parsed.error.issues[0];
      if (issue !== undefined) {
        if (issue.code === 'unrecognized_keys') {
          // A caller's key is echoed, so bound it.
          field = String(issue.keys[0]).slice(0, 64);
          message = 'is not a field of a batch item';
        } else {
          field = issue.path.length > 0 ? issue.path.map(String).join('/') : 'item';
          message = issue.message;
        }
      }
    }
  }
  return {
    md5,
    ...(hasSha256 && { sha256 }),
    name,
    error: { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', detail: `"${field}" ${message}`, field, retryable: false },
  };
}
