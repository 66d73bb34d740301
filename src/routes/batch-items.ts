import { batchItemSchema, LONE_SURROGATE, MAX_NAME_LENGTH, MD5 } from './schemas.js';

/**
 * Checks one batch item at a time, so that a malformed item (Carbon Black's
 * 30-zero `parent_md5`, an empty name) costs only its own verdict.
 *
 * Valid items take a fast path of plain tests that accepts exactly what
 * `batchItemSchema` accepts (a property test holds the two together); only an
 * invalid item goes through zod, for its message.
 */

export interface ValidItem {
  md5: string;
  name: string;
}

export interface InvalidItem {
  /** The md5 as given when it was a string (lower-cased when valid), else null. */
  md5: string | null;
  name: string | null;
  error: { status: 400; code: 'INVALID_REQUEST'; title: string; detail: string; field: string };
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1F\x7F-\x9F]/;

function isValidName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length >= 1 && name.length <= MAX_NAME_LENGTH && !CONTROL.test(name) && !LONE_SURROGATE.test(name)
  );
}

/** The item as a valid pair, or its error result. */
export function checkBatchItem(item: unknown): ValidItem | InvalidItem {
  if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
    const { md5, name } = item as { md5?: unknown; name?: unknown };
    if (typeof md5 === 'string' && MD5.test(md5) && isValidName(name) && hasOnlyPairKeys(item)) return { md5: md5.toLowerCase(), name };
  }
  return invalidItem(item);
}

function hasOnlyPairKeys(item: object): boolean {
  let count = 0;
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue;
    if (key !== 'md5' && key !== 'name') return false;
    count++;
  }
  return count === 2;
}

function invalidItem(item: unknown): InvalidItem {
  const fields = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
  const md5 = typeof fields.md5 === 'string' ? (MD5.test(fields.md5) ? fields.md5.toLowerCase() : fields.md5) : null;
  const name = typeof fields.name === 'string' ? fields.name : null;
  let field = 'item';
  let message = 'must be an object with "md5" and "name"';
  if (md5 !== null || name !== null || (typeof item === 'object' && item !== null && !Array.isArray(item))) {
    const parsed = batchItemSchema.safeParse(item);
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
  return {
    md5,
    name,
    error: { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', detail: `"${field}" ${message}`, field },
  };
}
