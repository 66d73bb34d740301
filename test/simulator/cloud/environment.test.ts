import { describe, expect, it } from 'vitest';
import { readCloudSimulatorEnvironment, readSimulatorBackend } from '../../../src/simulator/cloud/environment.js';
import { environmentFailure, SHARED_FAULT_ENVIRONMENT, SHARED_FAULT_SETTINGS } from '../environment-helpers.js';

const failure = (env: NodeJS.ProcessEnv): string => environmentFailure(readCloudSimulatorEnvironment, env);

describe('readSimulatorBackend', () => {
  it('defaults to edr and reads cloud in any case', () => {
    expect(readSimulatorBackend({})).toBe('edr');
    expect(readSimulatorBackend({ SIMULATOR_BACKEND: '' })).toBe('edr');
    expect(readSimulatorBackend({ SIMULATOR_BACKEND: 'edr' })).toBe('edr');
    expect(readSimulatorBackend({ SIMULATOR_BACKEND: ' Cloud ' })).toBe('cloud');
  });

  it('names SIMULATOR_BACKEND when it is neither', () => {
    expect(environmentFailure(readSimulatorBackend, { SIMULATOR_BACKEND: 'defense' })).toContain('SIMULATOR_BACKEND');
  });
});

describe('readCloudSimulatorEnvironment', () => {
  it('has loopback defaults and leaves credentials to be generated', () => {
    expect(readCloudSimulatorEnvironment({ SIMULATOR_BACKEND: 'cloud' })).toEqual({
      port: 8090,
      host: '127.0.0.1',
      credentials: {},
      population: 0,
      jobDurationMs: 1500,
      rateLimit: { limit: 1000, windowMs: 300_000 },
      faults: {},
    });
  });

  it('reads every variable, the fault ones included', () => {
    const settings = readCloudSimulatorEnvironment({
      SIMULATOR_BACKEND: 'cloud',
      SIMULATOR_PORT: '9001',
      SIMULATOR_HOST: '::1',
      SIMULATOR_CLOUD_ORG_KEY: 'ABCD1234',
      SIMULATOR_CLOUD_API_ID: 'ABCDEFGHIJ',
      SIMULATOR_CLOUD_API_SECRET: 'ABCDEFGHIJKLMNOPQRSTUVWX',
      SIMULATOR_CLOUD_JOB_MS: '200',
      SIMULATOR_CLOUD_RATE_LIMIT: '50',
      SIMULATOR_CLOUD_RATE_WINDOW_MS: '10000',
      SIMULATOR_POPULATION: '5000',
      ...SHARED_FAULT_ENVIRONMENT,
      SIMULATOR_FAULT_JOB_MS: '900',
      SIMULATOR_FAULT_JOB_NEVER_COMPLETES: 'yes',
      UNRELATED: 'ignored',
    });
    expect(settings).toEqual({
      port: 9001,
      host: '::1',
      credentials: { orgKey: 'ABCD1234', apiId: 'ABCDEFGHIJ', apiSecret: 'ABCDEFGHIJKLMNOPQRSTUVWX' },
      population: 5000,
      jobDurationMs: 200,
      rateLimit: { limit: 50, windowMs: 10_000 },
      faults: { ...SHARED_FAULT_SETTINGS, jobDurationMs: 900, jobNeverCompletes: true },
    });
  });

  it('treats empty variables as unset', () => {
    expect(readCloudSimulatorEnvironment({ SIMULATOR_CLOUD_API_ID: '', SIMULATOR_CLOUD_JOB_MS: '' })).toMatchObject({
      credentials: {},
      jobDurationMs: 1500,
    });
  });

  it('fails with one line naming every bad variable', () => {
    const message = failure({
      SIMULATOR_PORT: 'eighty',
      SIMULATOR_CLOUD_ORG_KEY: 'short',
      SIMULATOR_CLOUD_API_ID: 'lowercase1',
      SIMULATOR_CLOUD_API_SECRET: 'X',
      SIMULATOR_CLOUD_JOB_MS: '-1',
      SIMULATOR_CLOUD_RATE_LIMIT: '0',
      SIMULATOR_CLOUD_RATE_WINDOW_MS: 'soon',
      SIMULATOR_POPULATION: '1e12',
      SIMULATOR_FAULT_ERROR_STATUS: '404',
      SIMULATOR_FAULT_JOB_NEVER_COMPLETES: 'maybe',
    });
    for (const variable of [
      'SIMULATOR_PORT',
      'SIMULATOR_CLOUD_ORG_KEY',
      'SIMULATOR_CLOUD_API_ID',
      'SIMULATOR_CLOUD_API_SECRET',
      'SIMULATOR_CLOUD_JOB_MS',
      'SIMULATOR_CLOUD_RATE_LIMIT',
      'SIMULATOR_CLOUD_RATE_WINDOW_MS',
      'SIMULATOR_POPULATION',
      'SIMULATOR_FAULT_ERROR_STATUS',
      'SIMULATOR_FAULT_JOB_NEVER_COMPLETES',
    ]) {
      expect(message).toContain(variable);
    }
  });

  it('refuses the EDR-only variables instead of ignoring them', () => {
    const message = failure({ SIMULATOR_TOKEN: 'x', SIMULATOR_LATENCY_MS: '5', SIMULATOR_FAULT_BLOCK_JOINS: 'true' });
    expect(message).toContain('SIMULATOR_TOKEN: is for the EDR simulator only');
    expect(message).toContain('SIMULATOR_LATENCY_MS');
    expect(message).toContain('SIMULATOR_FAULT_BLOCK_JOINS');
  });
});
