import { z } from 'zod';
import { simulatorEnvironmentSchema } from '../environment.js';
import { faultsFrom, flag, integer, parseEnvironment, SHARED_FAULT_VARIABLES, sharedFaultVariableSchemas } from '../environment-reading.js';
import type { CloudCredentials } from './credentials.js';
import { MAX_JOB_DURATION_MS, type CloudFaultSettings } from './faults.js';
import { DEFAULT_JOB_DURATION_MS } from './jobs.js';
import { MAX_CLOUD_POPULATION } from './population.js';
import { DEFAULT_RATE_LIMIT, MAX_RATE_LIMIT, MAX_RATE_WINDOW_MS, type RateLimitSettings } from './rate-limit.js';

/**
 * What `npm run simulator` reads: SIMULATOR_BACKEND picks the simulator
 * (edr, the default, or cloud), and for the Cloud one the variables below,
 * as one zod schema. The fault variables are the EDR simulator's (same
 * names, same meanings) plus two about jobs; SIMULATOR_FAULT_BLOCK_JOINS,
 * SIMULATOR_TOKEN and SIMULATOR_LATENCY_MS belong to the EDR simulator and
 * are refused here rather than silently ignored. An empty variable counts
 * as unset.
 */

export type SimulatorBackend = 'edr' | 'cloud';

const backendSchema = z.object({
  SIMULATOR_BACKEND: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['edr', 'cloud']))
    .default('edr'),
});

/** Which simulator to start; throws SimulatorEnvironmentError naming SIMULATOR_BACKEND when it is neither edr nor cloud. */
export function readSimulatorBackend(env: NodeJS.ProcessEnv): SimulatorBackend {
  return parseEnvironment(backendSchema, env).SIMULATOR_BACKEND;
}

const credential = (length: number) =>
  z
    .string()
    .regex(new RegExp(`^[A-Z0-9]{${length}}$`, 'u'), `must be ${length} upper-case letters or digits`)
    .optional();
const edrOnly = (instead: string) => z.never({ error: `is for the EDR simulator only (SIMULATOR_BACKEND=edr); ${instead}` }).optional();
const shared = simulatorEnvironmentSchema.shape;

export const cloudEnvironmentSchema = z.object({
  SIMULATOR_BACKEND: z.string(),
  SIMULATOR_PORT: shared.SIMULATOR_PORT,
  SIMULATOR_HOST: shared.SIMULATOR_HOST,
  SIMULATOR_CLOUD_ORG_KEY: credential(8),
  SIMULATOR_CLOUD_API_ID: credential(10),
  SIMULATOR_CLOUD_API_SECRET: credential(24),
  SIMULATOR_CLOUD_JOB_MS: integer(0, MAX_JOB_DURATION_MS).default(DEFAULT_JOB_DURATION_MS),
  SIMULATOR_CLOUD_RATE_LIMIT: integer(1, MAX_RATE_LIMIT).default(DEFAULT_RATE_LIMIT.limit),
  SIMULATOR_CLOUD_RATE_WINDOW_MS: integer(1, MAX_RATE_WINDOW_MS).default(DEFAULT_RATE_LIMIT.windowMs),
  SIMULATOR_POPULATION: integer(0, MAX_CLOUD_POPULATION).default(0),
  ...sharedFaultVariableSchemas,
  SIMULATOR_FAULT_JOB_MS: integer(0, MAX_JOB_DURATION_MS).optional(),
  // The same true/false, 1/0, yes/no, on/off spelling as the EDR simulator's SIMULATOR_FAULT_BLOCK_JOINS.
  SIMULATOR_FAULT_JOB_NEVER_COMPLETES: flag.optional(),
  SIMULATOR_FAULT_BLOCK_JOINS: edrOnly('Cloud has no binary joins to block'),
  SIMULATOR_TOKEN: edrOnly('use SIMULATOR_CLOUD_API_ID and SIMULATOR_CLOUD_API_SECRET'),
  SIMULATOR_LATENCY_MS: edrOnly('use SIMULATOR_FAULT_LATENCY_MS'),
});

export interface CloudSimulatorSettings {
  port: number;
  host: string;
  credentials: Partial<CloudCredentials>;
  population: number;
  jobDurationMs: number;
  rateLimit: RateLimitSettings;
  faults: Partial<CloudFaultSettings>;
}

const FAULT_VARIABLES = {
  ...SHARED_FAULT_VARIABLES,
  SIMULATOR_FAULT_JOB_MS: 'jobDurationMs',
  SIMULATOR_FAULT_JOB_NEVER_COMPLETES: 'jobNeverCompletes',
} as const satisfies Record<string, keyof CloudFaultSettings>;

/** Reads the Cloud simulator's settings; throws SimulatorEnvironmentError with one line naming every bad variable. */
export function readCloudSimulatorEnvironment(env: NodeJS.ProcessEnv): CloudSimulatorSettings {
  const e = parseEnvironment(cloudEnvironmentSchema, env, { SIMULATOR_BACKEND: 'cloud' });
  const credentials: Partial<CloudCredentials> = {};
  if (e.SIMULATOR_CLOUD_ORG_KEY !== undefined) credentials.orgKey = e.SIMULATOR_CLOUD_ORG_KEY;
  if (e.SIMULATOR_CLOUD_API_ID !== undefined) credentials.apiId = e.SIMULATOR_CLOUD_API_ID;
  if (e.SIMULATOR_CLOUD_API_SECRET !== undefined) credentials.apiSecret = e.SIMULATOR_CLOUD_API_SECRET;
  return {
    port: e.SIMULATOR_PORT,
    host: e.SIMULATOR_HOST,
    credentials,
    population: e.SIMULATOR_POPULATION,
    jobDurationMs: e.SIMULATOR_CLOUD_JOB_MS,
    rateLimit: { limit: e.SIMULATOR_CLOUD_RATE_LIMIT, windowMs: e.SIMULATOR_CLOUD_RATE_WINDOW_MS },
    faults: faultsFrom<CloudFaultSettings>(e, FAULT_VARIABLES),
  };
}
