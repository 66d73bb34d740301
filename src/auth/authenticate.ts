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

/** Optional whitespace around a field value is not part of it (RFC 9110 §5.5). */
const SURROUNDING_OWS = /^[ \t]+|[ \t]+$/g;

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export function authenticate(raw: string | undefined, keys: readonly ApiKey[]): AuthOutcome {
  if (raw === undefined) return MISSING;
  // Node's parser already strips it on the wire; an in-process request (inject) or a proxy may not.
  const header = isOws(raw.charCodeAt(0)) || isOws(raw.charCodeAt(raw.length - 1)) ? raw.replace(SURROUNDING_OWS, '') : raw;
  if (header === '') return MISSING;
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
  return found === undefined ? UNKNOWN : Object.freeze({ kind: 'ok', key: found });
}

/**
 * Most requests repeat one of a few exact Authorization values, and hashing
 * the key on each was a twentieth of a cached lookup's CPU. A verifier
 * remembers the header values that `authenticate` accepted, so that a repeat
 * is a Map lookup.
 *
 * What keeps this safe:
 * - only accepted values are remembered: an unknown or malformed value always
 *   takes the full path, digest and constant-time compare against every key;
 * - the Map is keyed by the whole header string. V8 hashes strings with a
 *   per-process random seed and compares contents only after the hashes
 *   match, so a guess learns nothing a guess could not learn before;
 * - memory is bounded: at `maxRemembered` values the Map is emptied and
 *   refills from verified requests (a flood of distinct valid keys only costs
 *   the digest again);
 * - it belongs to one key set: keys change by building a new app, whose
 *   verifier starts empty, so a removed key is never served from here.
 */
export class KeyVerifier {
  readonly #keys: readonly ApiKey[];
  readonly #accepted = new Map<string, AuthOutcome>();
  readonly #maxRemembered: number;

  constructor(keys: readonly ApiKey[], maxRemembered = 256) {
    this.#keys = keys;
    this.#maxRemembered = maxRemembered;
  }

  /** Like `authenticate(header, keys)`, with accepted values remembered. */
  verify(header: string | undefined): AuthOutcome {
    if (header === undefined) return MISSING;
    const known = this.#accepted.get(header);
    if (known !== undefined) return known;
    const outcome = authenticate(header, this.#keys);
    if (outcome.kind === 'ok') {
      if (this.#accepted.size >= this.#maxRemembered) this.#accepted.clear();
      this.#accepted.set(header, outcome);
    }
    return outcome;
  }

  /** How many header values are remembered (for tests). */
  get remembered(): number {
    return this.#accepted.size;
  }
}

/** `admin` may do everything `lookup` may. */
export function roleAllows(held: Role, needed: Role): boolean {
  return held === 'admin' || needed === 'lookup';
}
