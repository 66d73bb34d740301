import { describe, expect, it } from 'vitest';
import { readSimulatorEnvironment } from '../../src/simulator/environment.js';
import { environmentFailure, SHARED_FAULT_ENVIRONMENT, SHARED_FAULT_SETTINGS } from './environment-helpers.js';

describe('readSimulatorEnvironment', () => {
  it('has loopback defaults and generates a token', () => {
    const settings = readSimulatorEnvironment({});
    expect(settings).toMatchObject({ port: 8090, host: '127.0.0.1', population: 0, latencyMs: 0, faults: {}, tokenGenerated: true });
    expect(settings.token.length).toBeGreaterThanOrEqual(20);
    expect(readSimulatorEnvironment({}).token).not.toBe(settings.token);
  });

  it('reads every variable, fault variables included', () => {
    const settings = readSimulatorEnvironment({
      SIMULATOR_PORT: '9000',
      SIMULATOR_HOST: '::1',
      SIMULATOR_TOKEN: 'secret',
      SIMULATOR_POPULATION: '1000',
      SIMULATOR_LATENCY_MS: '50',
      ...SHARED_FAULT_ENVIRONMENT,
      SIMULATOR_FAULT_BLOCK_JOINS: 'true',
      UNRELATED: 'ignored',
    });
    expect(settings).toEqual({
      port: 9000,
      host: '::1',
      token: 'secret',
      tokenGenerated: false,
      population: 1000,
      latencyMs: 50,
      faults: { ...SHARED_FAULT_SETTINGS, blockJoins: true },
    });
  });

  it('treats empty variables as unset', () => {
    expect(readSimulatorEnvironment({ SIMULATOR_PORT: '', SIMULATOR_TOKEN: '' })).toMatchObject({ port: 8090, tokenGenerated: true });
  });

  it('fails with one line naming every bad variable', () => {
    const message = environmentFailure(readSimulatorEnvironment, {
      SIMULATOR_PORT: 'eighty',
      SIMULATOR_FAULT_ERROR_RATE: '1.5',
      SIMULATOR_FAULT_ERROR_STATUS: '404',
    });
    expect(message).toContain('SIMULATOR_PORT');
    expect(message).toContain('SIMULATOR_FAULT_ERROR_RATE');
    expect(message).toContain('SIMULATOR_FAULT_ERROR_STATUS');
  });
});
