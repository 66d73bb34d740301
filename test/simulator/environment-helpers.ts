import { expect } from 'vitest';
import { SimulatorEnvironmentError } from '../../src/simulator/environment.js';

/**
 * For the environment tests of both simulators: the fault variables they
 * share (same names, same meanings) with a value each, the fault settings
 * those give on either simulator, and the one-line error a bad environment
 * gets.
 */

export const SHARED_FAULT_ENVIRONMENT = {
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
} as const;

export const SHARED_FAULT_SETTINGS = {
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
} as const;

/** The message `read` refuses `env` with, checked to be a SimulatorEnvironmentError on one line; fails the test if it accepts. */
export function environmentFailure(read: (env: NodeJS.ProcessEnv) => unknown, env: NodeJS.ProcessEnv): string {
  try {
    read(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SimulatorEnvironmentError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('accepted');
}
