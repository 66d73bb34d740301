import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, settingsInForce, unknownSettingWarnings } from '../../src/config.js';

/*
 * The shared tier's settings (REDIS_*, CB_FLEET_MAX_CONCURRENCY) as loadConfig
 * reads them: off without REDIS_URL, the documented defaults with it, a
 * password only ever from REDIS_PASSWORD or its file (never in the URL, never
 * in a message or the settings line), and every bad value refused by name.
 */

const minimal = { CB_URL: 'https://cb.example.test', CB_API_TOKEN: 'secret-token-value-123', AUTH_DISABLED: 'true' };
const PASSWORD = 'Redis-Pa55word-d0n0tl0g';

const dir = mkdtempSync(join(tmpdir(), 'signet-redis-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('shared tier configuration', () => {
  it('is off without REDIS_URL', () => {
    expect(loadConfig(minimal).sharedTier).toBeUndefined();
    // An empty REDIS_URL (a blank line in a ConfigMap) is unset too.
    expect(loadConfig({ ...minimal, REDIS_URL: '' }).sharedTier).toBeUndefined();
  });

  it('takes the documented defaults with only REDIS_URL', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://h:6379' }).sharedTier).toEqual({
      url: 'redis://h:6379',
      password: undefined,
      keyPrefix: 'signet:',
      timeoutMs: 50,
      flightLeaseMs: 2000,
      fleetMaxConcurrency: undefined,
    });
  });

  it('reads every setting given', () => {
    const config = loadConfig({
      ...minimal,
      REDIS_URL: 'redis://h:6379/2',
      REDIS_KEY_PREFIX: 'prod.eu-1:signet_',
      REDIS_TIMEOUT_MS: '200',
      REDIS_FLIGHT_LEASE_MS: '5000',
      CB_FLEET_MAX_CONCURRENCY: '16',
    });
    expect(config.sharedTier).toMatchObject({
      url: 'redis://h:6379/2',
      keyPrefix: 'prod.eu-1:signet_',
      timeoutMs: 200,
      flightLeaseMs: 5000,
      fleetMaxConcurrency: 16,
    });
  });

  it('accepts rediss:// (TLS)', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'rediss://redis.example.test:6380' }).sharedTier?.url).toBe(
      'rediss://redis.example.test:6380',
    );
  });

  it.each(['http://h:6379', 'https://h', 'h:6379', 'valkey://h', 'not a url'])('refuses REDIS_URL=%s, naming REDIS_URL', (url) => {
    const message = errorOf({ ...minimal, REDIS_URL: url });
    expect(message).toMatch(/^REDIS_URL is invalid/);
    expect(message).toContain('redis://');
  });

  it.each([`redis://:${PASSWORD}@h:6379`, `redis://user:${PASSWORD}@h:6379`, `rediss://default:${PASSWORD}@h`])(
    'refuses a password in REDIS_URL (%s), pointing to REDIS_PASSWORD, without repeating it',
    (url) => {
      const message = errorOf({ ...minimal, REDIS_URL: url });
      expect(message).toMatch(/^REDIS_URL is invalid/);
      expect(message).toContain('REDIS_PASSWORD');
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain(PASSWORD.slice(0, 12));
    },
  );

  it('refuses a percent-encoded password in REDIS_URL without repeating it, encoded or not', () => {
    const message = errorOf({ ...minimal, REDIS_URL: 'redis://:p%40ssw0rd-secret@h' });
    expect(message).toContain('REDIS_PASSWORD');
    expect(message).not.toContain('ssw0rd-secret');
  });

  it.each([
    ['another scheme', `http://:${PASSWORD}@h:6379`],
    ['a bad port', `redis://:${PASSWORD}@h:99999`],
    ['no host', `redis://user:${PASSWORD}@`],
  ])('never repeats a password held by a REDIS_URL refused for %s', (_, url) => {
    // server.ts writes this message to stderr, the container log.
    const message = errorOf({ ...minimal, REDIS_URL: url });
    expect(message).toMatch(/^REDIS_URL is invalid/);
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(PASSWORD.slice(0, 12));
  });

  it('accepts a user name without a password', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://signet@h:6379' }).sharedTier).toMatchObject({
      url: 'redis://signet@h:6379',
      password: undefined,
    });
  });

  it('takes the password from REDIS_PASSWORD', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD: PASSWORD }).sharedTier?.password).toBe(PASSWORD);
  });

  it('reads REDIS_PASSWORD_FILE, trimmed', () => {
    const file = join(dir, 'password');
    writeFileSync(file, `  ${PASSWORD}\n\n`);
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD_FILE: file }).sharedTier?.password).toBe(PASSWORD);
  });

  it('names the path of an unreadable or empty REDIS_PASSWORD_FILE, never its content', () => {
    const absent = join(dir, 'absent');
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD_FILE: absent })).toMatch(
      new RegExp(`^REDIS_PASSWORD_FILE is invalid: cannot read ${absent} \\(ENOENT\\)`),
    );
    // A directory: readable as a path, not as a file.
    const message = errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD_FILE: dir });
    expect(message).toMatch(/^REDIS_PASSWORD_FILE is invalid: cannot read /);
    expect(message).toContain(dir);

    const empty = join(dir, 'empty');
    writeFileSync(empty, ' \n');
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD_FILE: empty })).toBe(
      `REDIS_PASSWORD_FILE is invalid: ${empty} is empty`,
    );
  });

  it('refuses CB_FLEET_MAX_CONCURRENCY without REDIS_URL', () => {
    const message = errorOf({ ...minimal, CB_FLEET_MAX_CONCURRENCY: '8' });
    expect(message).toContain('CB_FLEET_MAX_CONCURRENCY');
    expect(message).toContain('REDIS_URL');
  });

  it.each(['has space', 'star*', 'brace{x}', 'slash/', 'x'.repeat(65), 'ünï'])('refuses REDIS_KEY_PREFIX=%j, naming it', (prefix) => {
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_KEY_PREFIX: prefix })).toMatch(/^REDIS_KEY_PREFIX is invalid: /);
  });

  it('refuses REDIS_TIMEOUT_MS=10s, naming the variable and its unit', () => {
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_TIMEOUT_MS: '10s' })).toBe(
      'REDIS_TIMEOUT_MS is invalid: "10s" must be a whole number from 1 to 10000 (milliseconds)',
    );
  });

  it.each([
    ['REDIS_TIMEOUT_MS', '0'],
    ['REDIS_TIMEOUT_MS', '10001'],
    ['REDIS_FLIGHT_LEASE_MS', '99'],
    ['REDIS_FLIGHT_LEASE_MS', '2s'],
    ['CB_FLEET_MAX_CONCURRENCY', '0'],
    ['CB_FLEET_MAX_CONCURRENCY', 'many'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', [variable]: value })).toMatch(
      new RegExp(`^${variable} is invalid: "${value}" must be`),
    );
  });

  it('shows REDIS_PASSWORD as [redacted] in the settings in force, and the file path as it is', () => {
    const settings = settingsInForce({ ...minimal, REDIS_URL: 'redis://h:6379', REDIS_PASSWORD: PASSWORD });
    expect(settings).toMatchObject({
      REDIS_URL: 'redis://h:6379',
      REDIS_PASSWORD: '[redacted]',
      REDIS_KEY_PREFIX: 'signet:',
      REDIS_TIMEOUT_MS: 50,
      REDIS_FLIGHT_LEASE_MS: 2000,
    });
    expect(JSON.stringify(settings)).not.toContain(PASSWORD);
    const file = join(dir, 'password-file-path');
    expect(settingsInForce({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD_FILE: file })).toMatchObject({ REDIS_PASSWORD_FILE: file });
  });

  it('never repeats REDIS_PASSWORD in an error, even when it is the bad value', () => {
    // Only an empty password is refused by REDIS_PASSWORD's own check; every other error must not echo it either.
    expect(errorOf({ ...minimal, REDIS_URL: 'redis://h', REDIS_PASSWORD: PASSWORD, REDIS_TIMEOUT_MS: 'x' })).not.toContain(PASSWORD);
  });

  it('warns about REDIS_TIMEOUT=5, suggesting REDIS_TIMEOUT_MS', () => {
    expect(unknownSettingWarnings({ ...minimal, REDIS_URL: 'redis://h', REDIS_TIMEOUT: '5' })).toEqual([
      'REDIS_TIMEOUT is not a Signet setting and is ignored; did you mean REDIS_TIMEOUT_MS?',
    ]);
  });
});
