import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'ABCDEFGHIJKLMNOPQRSTUVWX';
const cloud = {
  CB_BACKEND: 'cloud',
  CB_URL: 'https://defense.example.test/',
  CB_ORG_KEY: 'ABCD1234',
  CB_API_ID: 'ZYXWVU9876',
  CB_API_SECRET: SECRET,
  AUTH_DISABLED: 'true',
};

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration of the Carbon Black Cloud backend', () => {
  it('reads the Cloud settings, with the documented defaults, and needs no EDR token', () => {
    const config = loadConfig(cloud);
    expect(config.carbonBlack).toMatchObject({ backend: 'cloud', url: 'https://defense.example.test', token: undefined });
    expect(config.carbonBlack.cloud).toEqual({
      orgKey: 'ABCD1234',
      apiId: 'ZYXWVU9876',
      apiSecret: SECRET,
      requestsPer5Minutes: 1000,
      pollIntervalMs: 500,
    });
    // The batch settings apply to both backends; Cloud's window default is its own.
    expect(config.carbonBlack).toMatchObject({ batchMaxHashes: 50, batchWindowMs: 20 });
  });

  it('EDR stays the default and carries no Cloud settings', () => {
    const config = loadConfig({ CB_URL: 'https://cb.example.test', CB_API_TOKEN: 't', AUTH_DISABLED: 'true' });
    expect(config.carbonBlack).toMatchObject({ backend: 'edr', token: 't', cloud: undefined });
  });

  it.each([
    ['CB_ORG_KEY', /^CB_ORG_KEY is required with CB_BACKEND=cloud/],
    ['CB_API_ID', /^CB_API_ID is required with CB_BACKEND=cloud/],
    ['CB_API_SECRET', /^CB_API_SECRET or CB_API_SECRET_FILE is required/],
  ])('names a missing %s', (variable, message) => {
    const env: NodeJS.ProcessEnv = { ...cloud };
    delete env[variable];
    expect(errorOf(env)).toMatch(message);
  });

  it('reads the secret from a file, trimmed, and never shows the file content in an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-cloud-'));
    const file = join(dir, 'secret');
    writeFileSync(file, `  ${SECRET}\n`);
    const env: NodeJS.ProcessEnv = { ...cloud, CB_API_SECRET_FILE: file };
    delete env.CB_API_SECRET;
    expect(loadConfig(env).carbonBlack.cloud?.apiSecret).toBe(SECRET);
    writeFileSync(file, '  \n');
    expect(errorOf(env)).toBe(`CB_API_SECRET_FILE is invalid: ${file} is empty`);
  });

  it('refuses plain http to Cloud, except to a loopback address (the simulator)', () => {
    expect(errorOf({ ...cloud, CB_URL: 'http://defense.example.test' })).toBe(
      'CB_URL is invalid: Carbon Black Cloud must be reached over https (http only to a loopback address)',
    );
    expect(loadConfig({ ...cloud, CB_URL: 'http://127.0.0.1:8091' }).carbonBlack.url).toBe('http://127.0.0.1:8091');
  });

  it.each([
    ['CB_BACKEND', 'saas'],
    ['CB_ORG_KEY', 'org/../x'],
    ['CB_API_ID', 'id with space'],
    ['CB_REQUESTS_PER_5_MINUTES', '0'],
    ['CB_BATCH_MAX_HASHES', '101'],
    ['CB_BATCH_WINDOW_MS', '-1'],
    ['CB_POLL_INTERVAL_MS', '5'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    const message = errorOf({ ...cloud, [variable]: value });
    expect(message).toMatch(new RegExp(`^${variable} is invalid`));
    expect(message).not.toContain(SECRET);
  });
});
