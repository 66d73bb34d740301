import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The API keys callers present as `Authorization: Bearer <key>`. Each key
 * has a name (for logs and rate limits) and a role. Only the SHA-256 digest
 * of a key is kept; error messages name the line and the name, never the key.
 */

export type Role = 'lookup' | 'admin';

export const ROLES: readonly Role[] = ['lookup', 'admin'];

export interface ApiKey {
  readonly name: string;
  readonly role: Role;
  /** SHA-256 of the key (UTF-8). */
  readonly digest: Buffer;
}

export type ApiKeySource = 'API_KEYS' | 'API_KEYS_FILE';

/** A one-line, secret-free reason why the keys cannot be used; it starts with the variable to fix. */
export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
}

/** Shown in logs when authentication is off; also the name no key may take. */
export const ANONYMOUS_NAME = 'anonymous';

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Printable ASCII (0x21-0x7E) except `,` (0x2C) and `:` (0x3A); whitespace is outside the range. */
const KEY = /^[\x21-\x2B\x2D-\x39\x3B-\x7E]+$/;
export const MIN_KEY_LENGTH = 16;

export function digestKey(key: string): Buffer {
  // crypto.hash is the one-shot form: no Hash object per request.
  return hash('sha256', key, 'buffer');
}

/**
 * Parses `name:key[:role]` entries: one a line for API_KEYS_FILE, comma
 * separated for API_KEYS. Blank entries and `#` comments are skipped.
 * Throws ApiKeyError naming the line (or entry) and, when it is valid, the name.
 */
export function parseApiKeys(text: string, source: ApiKeySource): ApiKey[] {
  const entries = source === 'API_KEYS_FILE' ? text.split(/\r?\n/) : text.split(',');
  const where = source === 'API_KEYS_FILE' ? 'line' : 'entry';
  const keys: ApiKey[] = [];
  const nameLines = new Map<string, number>();
  const digestLines = new Map<string, { line: number; name: string }>();

  entries.forEach((raw, index) => {
    const line = index + 1;
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const fail = (reason: string, name?: string): never => {
      throw new ApiKeyError(`${source} is invalid: ${where} ${line}${name === undefined ? '' : ` (name "${name}")`}: ${reason}`);
    };

    const parts = entry.split(':');
    // The parts are not echoed: a misplaced colon would put part of the key in them.
    if (parts.length < 2 || parts.length > 3) fail('expected name:key or name:key:role (a key may not contain ":")');
    const [name = '', key = '', roleText] = parts;
    // An invalid name is not echoed either: it may be a key written in the wrong place.
    if (!NAME.test(name)) fail('the name must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-"');
    if (name === ANONYMOUS_NAME) fail(`the name "${ANONYMOUS_NAME}" is reserved`, name);
    if (key.length < MIN_KEY_LENGTH) fail(`the key must be at least ${MIN_KEY_LENGTH} characters`, name);
    if (!KEY.test(key)) fail('the key must be printable ASCII without spaces, "," or ":"', name);
    const role = roleText ?? 'lookup';
    if (role !== 'lookup' && role !== 'admin') fail('the role must be lookup or admin', name);

    const nameLine = nameLines.get(name);
    if (nameLine !== undefined) fail(`the name is already used on ${where} ${nameLine}`, name);
    const digest = digestKey(key);
    const hex = digest.toString('hex');
    const same = digestLines.get(hex);
    if (same !== undefined) fail(`the key is the same as on ${where} ${same.line} (name "${same.name}")`, name);

    nameLines.set(name, line);
    digestLines.set(hex, { line, name });
    keys.push(Object.freeze({ name, role: role as Role, digest }));
  });
  return keys;
}

export interface AuthEnvironment {
  API_KEYS?: string | undefined;
  API_KEYS_FILE?: string | undefined;
  AUTH_DISABLED?: boolean | undefined;
}

export interface AuthSettings {
  keys: ApiKey[];
  /** True when AUTH_DISABLED=true: every request is served as the anonymous admin. */
  disabled: boolean;
}

/**
 * Reads the keys from API_KEYS or API_KEYS_FILE (a path). Authentication is on
 * unless AUTH_DISABLED is true; with it on, no keys is an error. Empty strings
 * count as unset. Keys given with AUTH_DISABLED=true are still validated.
 */
export function loadApiKeys(env: AuthEnvironment): AuthSettings {
  const inline = env.API_KEYS === '' ? undefined : env.API_KEYS;
  const file = env.API_KEYS_FILE === '' ? undefined : env.API_KEYS_FILE;
  const disabled = env.AUTH_DISABLED === true;

  if (inline !== undefined && file !== undefined) {
    throw new ApiKeyError('API_KEYS and API_KEYS_FILE are both set; set only one of them');
  }
  let keys: ApiKey[] = [];
  if (inline !== undefined) {
    keys = parseApiKeys(inline, 'API_KEYS');
    if (keys.length === 0) throw new ApiKeyError('API_KEYS is invalid: it holds no key');
  } else if (file !== undefined) {
    keys = parseApiKeys(readKeyFile(file), 'API_KEYS_FILE');
    if (keys.length === 0) throw new ApiKeyError(`API_KEYS_FILE is invalid: ${file} holds no key`);
  } else if (!disabled) {
    throw new ApiKeyError(
      'API_KEYS or API_KEYS_FILE is required: set API keys as name:key[:role] entries, or AUTH_DISABLED=true to run without authentication',
    );
  }
  return { keys, disabled };
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    // The path is not secret; the content is, so only the error code is shown.
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ApiKeyError(`API_KEYS_FILE is invalid: cannot read ${path} (${code})`);
  }
}
