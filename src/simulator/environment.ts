import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { faultsFrom, flag, integer, parseEnvironment, SHARED_FAULT_VARIABLES, sharedFaultVariableSchemas } from './environment-reading.js';
import type { FaultSettings } from './faults.js';
import { MAX_POPULATION } from './population.js';

/**
 * The environment `npm run simulator` reads, as one zod schema. Fault
 * variables set the initial fault settings; PUT /__simulator/faults changes
 * them at run time.
 */

export { SimulatorEnvironmentError } from './environment-reading.js';

export const simulatorEnvironmentSchema = z.object({
  SIMULATOR_PORT: integer(0, 65_535).default(8090),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_TOKEN: z.string().min(1).optional(),
  SIMULATOR_POPULATION: integer(0, MAX_POPULATION).default(0),
  SIMULATOR_LATENCY_MS: integer(0, 600_000).default(0),
  ...sharedFaultVariableSchemas,
  SIMULATOR_FAULT_BLOCK_JOINS: flag.optional(),
});

export interface SimulatorSettings {
  port: number;
  host: string;
  token: string;
  /** True when no SIMULATOR_TOKEN was given and one was generated. */
  tokenGenerated: boolean;
  population: number;
  latencyMs: number;
  faults: Partial<FaultSettings>;
}

const FAULT_VARIABLES = {
  ...SHARED_FAULT_VARIABLES,
  SIMULATOR_FAULT_BLOCK_JOINS: 'blockJoins',
} as const satisfies Record<string, keyof FaultSettings>;

/** Reads the settings; throws SimulatorEnvironmentError with one line naming every bad variable. */
export function readSimulatorEnvironment(env: NodeJS.ProcessEnv): SimulatorSettings {
  const e = parseEnvironment(simulatorEnvironmentSchema, env);
  return {
    port: e.SIMULATOR_PORT,
    host: e.SIMULATOR_HOST,
    token: e.SIMULATOR_TOKEN ?? randomBytes(24).toString('base64url'),
    tokenGenerated: e.SIMULATOR_TOKEN === undefined,
    population: e.SIMULATOR_POPULATION,
    latencyMs: e.SIMULATOR_LATENCY_MS,
    faults: faultsFrom<FaultSettings>(e, FAULT_VARIABLES),
  };
}
