import { timingSafeEqual } from 'node:crypto';
import type { ApiKey, Role } from './api-keys.js';
import { digestKey } from './api-keys.js';

/**
 * Reads `Authorization: Bearer <key>` (RFC 6750 §2.1; the scheme is
 * case-insensitive) and finds the configured key, in constant time with
 * respect to the keys: the presented key is hashed once and compared with
 * every configured digest, without stopping at a match.
 */

export type AuthOutcome =
  | { kind: 'ok'; key: ApiKey }
  /** No Authorization header, or another scheme (Basic, ...): RFC 6750 sends no error code. */
  | { kind: 'missing' }
  /** `Bearer` with no key or with a key that has whitespace in it. */
  | { kind: 'malformed' }
  /** A well-formed key that is not configured. */
  | { kind: 'unknown' };

const MISSING: AuthOutcome = Object.freeze({ kind: 'missing' });
const MALFORMED: AuthOutcome = Object.freeze({ kind: 'malformed' });
const UNKNOWN: AuthOutcome = Object.freeze({ kind: 'unknown' });

const WHITESPACE = /\s/;

export function authenticate(header: string | undefined, keys: readonly ApiKey[]): AuthOutcome {
  if (header === undefined || header === '') return MISSING;
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return MISSING;
  if (space === -1) return MALFORMED;
  let start = space + 1;
  while (header.charCodeAt(start) === 0x20) start++;
  const token = header.slice(start);
  if (token === '' || WHITESPACE.test(token)) return MALFORMED;

  const digest = digestKey(token);
  let found: ApiKey | undefined;
  for (const key of keys) {
    // Every digest is compared; the assignment is the only thing a match changes.
    if (timingSafeEqual(key.digest, digest)) found = key;
  }
  return found === undefined ? UNKNOWN : { kind: 'ok', key: found };
}

/** `admin` may do everything `lookup` may. */
export function roleAllows(held: Role, needed: Role): boolean {
  return held === 'admin' || needed === 'lookup';
}
