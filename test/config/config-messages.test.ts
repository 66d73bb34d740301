import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, settingsInForce, unknownSettingWarnings } from '../../src/config.js';

/** Configuration that explains itself: the bad value, the expected form and unit; typos named; the settings in force. */
const minimal = { CB_URL: 'https://cb.example.test', CB_API_TOKEN: 'secret-token-value-123', AUTH_DISABLED: 'true' };

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration messages', () => {
  it.each([
    [{ CB_TIMEOUT_MS: '10s' }, 'CB_TIMEOUT_MS is invalid: "10s" must be a whole number from 1 to 600000 (milliseconds)'],
    [{ CB_MAX_CONCURRENCY: '-1' }, 'CB_MAX_CONCURRENCY is invalid: "-1" must be a whole number from 1 to 1024'],
    [{ CACHE_TTL_SIGNED_SECONDS: '1.5' }, 'CACHE_TTL_SIGNED_SECONDS is invalid: "1.5" must be a whole number from 1 to 31536000 (seconds)'],
    [{ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE is invalid: "lots" must be a whole number from 1 to 10000000'],
    [{ CB_TLS_INSECURE: 'yes' }, 'CB_TLS_INSECURE is invalid: "yes" must be true or false'],
    [{ METRICS_PUBLIC: '1' }, 'METRICS_PUBLIC is invalid: "1" must be true or false'],
    [{ AUTH_DISABLED: 'on' }, 'AUTH_DISABLED is invalid: "on" must be true or false'],
  ])('%j: names the variable, echoes the value, says the form and unit', (bad, message) => {
    expect(errorOf({ ...minimal, ...bad })).toBe(message);
  });

  it('takes true and false in any case, as the README says', () => {
    expect(loadConfig({ ...minimal, CB_TLS_INSECURE: 'TRUE' }).carbonBlack.tlsInsecure).toBe(true);
    expect(loadConfig({ ...minimal, CB_TLS_INSECURE: 'False' }).carbonBlack.tlsInsecure).toBe(false);
  });

  it('never echoes a secret, even when it is the bad value', () => {
    const message = errorOf({ ...minimal, AUTH_DISABLED: 'false', API_KEYS: 'not a key list secret-value-987' });
    expect(message).not.toContain('secret-value-987');
  });

  it('clips a long value it echoes', () => {
    expect(errorOf({ ...minimal, PORT: '9'.repeat(200) }).length).toBeLessThan(200);
  });

  it('warns about a variable that looks like a setting but is none, naming the closest one', () => {
    expect(
      unknownSettingWarnings({ ...minimal, CB_TIMEOUT: '5', CACHE_TTL_SIGNED: '60', SIGNET_URL: 'x', PATH: '/bin', HOME: '/root' }),
    ).toEqual([
      'CACHE_TTL_SIGNED is not a Signet setting and is ignored; did you mean CACHE_TTL_SIGNED_SECONDS?',
      'CB_TIMEOUT is not a Signet setting and is ignored; did you mean CB_TIMEOUT_MS?',
    ]);
  });

  it('lists every setting in force with its default, secrets redacted', () => {
    const settings = settingsInForce({ ...minimal, CB_API_SECRET: 'cloud-secret-xyz', LOG_LEVEL: 'warn' });
    expect(settings).toMatchObject({
      CB_URL: 'https://cb.example.test',
      CB_API_TOKEN: '[redacted]',
      CB_API_SECRET: '[redacted]',
      CB_TIMEOUT_MS: 3000,
      LOG_LEVEL: 'warn',
      CB_BACKEND: 'edr',
    });
    expect(JSON.stringify(settings)).not.toContain('secret-token-value-123');
    expect(JSON.stringify(settings)).not.toContain('cloud-secret-xyz');
  });
  it("leaves the other backend's defaults out of the settings in force, and shows the batch window in force", () => {
    const edr = settingsInForce(minimal);
    expect(edr).toMatchObject({ CB_BACKEND: 'edr', CB_VERDICT_SOURCE: 'binary-record', CB_BINARY_READ: 'search', CB_BATCH_WINDOW_MS: 2 });
    expect(edr).not.toHaveProperty('CB_REQUESTS_PER_5_MINUTES');
    expect(edr).not.toHaveProperty('CB_POLL_INTERVAL_MS');

    const cloud = settingsInForce({
      CB_BACKEND: 'cloud',
      CB_URL: 'https://defense.example.test',
      CB_ORG_KEY: 'ABCD1234',
      CB_API_ID: 'KEYID12345',
      CB_API_SECRET: 'cloud-secret-xyz',
      AUTH_DISABLED: 'true',
    });
    expect(cloud).toMatchObject({ CB_BACKEND: 'cloud', CB_REQUESTS_PER_5_MINUTES: 1000, CB_POLL_INTERVAL_MS: 500, CB_BATCH_WINDOW_MS: 20 });
    for (const edrOnly of ['CB_VERDICT_SOURCE', 'CB_BINARY_READ', 'CB_JOIN_FIELD', 'CB_API_TOKEN'])
      expect(cloud).not.toHaveProperty(edrOnly);

    // What the operator set is listed whatever the backend, so a misplaced setting is visible.
    expect(settingsInForce({ ...minimal, CB_POLL_INTERVAL_MS: '250', CB_BATCH_WINDOW_MS: '7' })).toMatchObject({
      CB_POLL_INTERVAL_MS: 250,
      CB_BATCH_WINDOW_MS: 7,
    });
  });
});
