import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const minimal = { CB_URL: 'https://cb.example.test', CB_API_TOKEN: 'secret-token-value', AUTH_DISABLED: 'true' };

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config.carbonBlack).toMatchObject({
      joinField: 'digsig_prog_name',
      timeoutMs: 3000,
      deadlineMs: 8000,
      maxConcurrency: 8,
      maxQueue: 1000,
    });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(config.cache).toMatchObject({ maxEntries: 100_000, ttlSignedSeconds: 86_400, ttlUnsignedSeconds: 3600 });
    expect(config.logLevel).toBe('info');
  });

  it('a missing CB_URL is named and points to the demo', () => {
    const message = errorOf({ CB_API_TOKEN: 'x' });
    expect(message).toMatch(/^CB_URL is required/);
    expect(message).toContain('npm run demo');
    expect(message).not.toContain('\n');
  });

  it('names an invalid value and says what is wrong', () => {
    expect(errorOf({ ...minimal, CB_URL: 'ftp://cb' })).toMatch(/^CB_URL is invalid: "ftp:\/\/cb" must be an http or https URL/);
    expect(errorOf({ ...minimal, PORT: 'eighty' })).toMatch(/^PORT is invalid/);
    expect(errorOf({ ...minimal, PORT: '70000' })).toMatch(/^PORT is invalid/);
    expect(errorOf({ ...minimal, CB_JOIN_FIELD: 'md5' })).toMatch(/^CB_JOIN_FIELD is invalid/);
    expect(errorOf({ ...minimal, CACHE_MAX_ENTRIES: '0' })).toMatch(/^CACHE_MAX_ENTRIES is invalid/);
    expect(errorOf({ ...minimal, LOG_LEVEL: 'loud' })).toMatch(/^LOG_LEVEL is invalid/);
  });

  it('needs a token, from the variable or from a file', () => {
    expect(errorOf({ CB_URL: minimal.CB_URL, AUTH_DISABLED: 'true' })).toMatch(/CB_API_TOKEN or CB_API_TOKEN_FILE is required/);
    const dir = mkdtempSync(join(tmpdir(), 'signet-config-'));
    const file = join(dir, 'token');
    writeFileSync(file, '  token-from-file\n');
    expect(loadConfig({ CB_URL: minimal.CB_URL, AUTH_DISABLED: 'true', CB_API_TOKEN_FILE: file }).carbonBlack.token).toBe(
      'token-from-file',
    );
    expect(errorOf({ CB_URL: minimal.CB_URL, AUTH_DISABLED: 'true', CB_API_TOKEN_FILE: join(dir, 'absent') })).toMatch(
      /^CB_API_TOKEN_FILE is invalid: cannot read .*ENOENT/,
    );
  });

  it('never repeats the token in an error', () => {
    expect(errorOf({ ...minimal, PORT: 'x' })).not.toContain(minimal.CB_API_TOKEN);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...minimal, PORT: '', LOG_LEVEL: '' }).server.port).toBe(8080);
  });

  it('keeps a path prefix in CB_URL without a trailing slash', () => {
    expect(loadConfig({ ...minimal, CB_URL: 'https://cb.example.test/edr/' }).carbonBlack.url).toBe('https://cb.example.test/edr');
  });
});
