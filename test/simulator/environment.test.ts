import { describe, expect, it } from 'vitest';
import { readSimulatorEnvironment, SimulatorEnvironmentError } from '../../src/simulator/environment.js';

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
      SIMULATOR_FAULT_LATENCY_MS: '5',
      SIMULATOR_FAULT_JITTER_MS: '6',
      SIMULATOR_FAULT_ERROR_RATE: '0.25',
      SIMULATOR_FAULT_ERROR_STATUS: '429',
      SIMULATOR_FAULT_RETRY_AFTER_SECONDS: '3',
      SIMULATOR_FAULT_HANG_RATE: '0.01',
      SIMULATOR_FAULT_RESET_RATE: '0.02',
      SIMULATOR_FAULT_MALFORMED_RATE: '0.03',
      SIMULATOR_FAULT_TRUNCATED_RATE: '0.04',
      SIMULATOR_FAULT_SLOW_BODY_MS: '100',
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
      faults: {
        latencyMs: 5,
        jitterMs: 6,
        errorRate: 0.25,
        errorStatus: 429,
        retryAfterSeconds: 3,
        hangRate: 0.01,
        resetRate: 0.02,
        malformedRate: 0.03,
        truncatedRate: 0.04,
        slowBodyMs: 100,
        blockJoins: true,
      },
    });
  });

  it('treats empty variables as unset', () => {
    expect(readSimulatorEnvironment({ SIMULATOR_PORT: '', SIMULATOR_TOKEN: '' })).toMatchObject({ port: 8090, tokenGenerated: true });
  });

  it('fails with one line naming every bad variable', () => {
    try {
      readSimulatorEnvironment({ SIMULATOR_PORT: 'eighty', SIMULATOR_FAULT_ERROR_RATE: '1.5', SIMULATOR_FAULT_ERROR_STATUS: '404' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SimulatorEnvironmentError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain('SIMULATOR_PORT');
      expect(message).toContain('SIMULATOR_FAULT_ERROR_RATE');
      expect(message).toContain('SIMULATOR_FAULT_ERROR_STATUS');
    }
  });
});
