import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuthEnvironment } from '../../src/auth/api-keys.js';
import { ApiKeyError, loadApiKeys } from '../../src/auth/api-keys.js';

function errorOf(env: AuthEnvironment): string {
  try {
    loadApiKeys(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiKeyError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an ApiKeyError');
}

function keyFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'signet-keys-')), 'api-keys');
  writeFileSync(path, content);
  return path;
}

describe('loading API keys', () => {
  it('refuses to start without keys, naming API_KEYS, API_KEYS_FILE and the way out', () => {
    for (const env of [{}, { API_KEYS: '' }, { API_KEYS_FILE: '' }, { AUTH_DISABLED: false }]) {
      const message = errorOf(env);
      expect(message).toContain('API_KEYS ');
      expect(message).toContain('API_KEYS_FILE');
      expect(message).toContain('AUTH_DISABLED=true');
    }
  });

  it('reads API_KEYS', () => {
    const { keys, disabled } = loadApiKeys({ API_KEYS: 'soar:soar-key-0123456789abcdef,ops:ops-key-0123456789abcdef:admin' });
    expect(disabled).toBe(false);
    expect(keys.map((key) => key.name)).toEqual(['soar', 'ops']);
  });

  it('reads API_KEYS_FILE', () => {
    const path = keyFile('# callers\nsoar:soar-key-0123456789abcdef\nops:ops-key-0123456789abcdef:admin\n');
    const { keys } = loadApiKeys({ API_KEYS_FILE: path });
    expect(keys.map((key) => `${key.name}/${key.role}`)).toEqual(['soar/lookup', 'ops/admin']);
  });

  it('names an unreadable file by path and error code only', () => {
    expect(errorOf({ API_KEYS_FILE: '/nonexistent/signet-keys' })).toBe(
      'API_KEYS_FILE is invalid: cannot read /nonexistent/signet-keys (ENOENT)',
    );
  });

  it('rejects a file or a variable that holds no key', () => {
    const path = keyFile('# nobody yet\n\n');
    expect(errorOf({ API_KEYS_FILE: path })).toBe(`API_KEYS_FILE is invalid: ${path} holds no key`);
    expect(errorOf({ API_KEYS: ' , ,' })).toBe('API_KEYS is invalid: it holds no key');
  });

  it('passes on a bad line without the key', () => {
    const path = keyFile('soar:soar-key-0123456789abcdef\nsoar:another-secret-key-value\n');
    const message = errorOf({ API_KEYS_FILE: path });
    expect(message).toBe('API_KEYS_FILE is invalid: line 2 (name "soar"): the name is already used on line 1');
  });

  it('refuses both variables at once', () => {
    const path = keyFile('soar:soar-key-0123456789abcdef\n');
    expect(errorOf({ API_KEYS: 'ops:ops-key-0123456789abcdef', API_KEYS_FILE: path })).toMatch(/^API_KEYS and API_KEYS_FILE are both set/);
  });

  it('AUTH_DISABLED=true needs no keys, but still validates keys that are given', () => {
    expect(loadApiKeys({ AUTH_DISABLED: true })).toEqual({ keys: [], disabled: true });
    expect(loadApiKeys({ AUTH_DISABLED: true, API_KEYS: 'soar:soar-key-0123456789abcdef' }).keys).toHaveLength(1);
    expect(errorOf({ AUTH_DISABLED: true, API_KEYS: 'soar:short' })).toMatch(/^API_KEYS is invalid: entry 1/);
  });
});
