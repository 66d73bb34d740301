import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ERROR_STATUSES, type FaultSettings } from './faults.js';
import { MAX_POPULATION } from './population.js';

/**
 * The environment `npm run simulator` reads, as one zod schema. Fault
 * variables set the initial fault settings; PUT /__simulator/faults changes
 * them at run time.
 */

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rate = z.coerce.number().min(0).max(1);
// z.coerce.boolean() would take "false" as true: spell the values out.
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

export const simulatorEnvironmentSchema = z.object({
  SIMULATOR_PORT: integer(0, 65_535).default(8090),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_TOKEN: z.string().min(1).optional(),
  SIMULATOR_POPULATION: integer(0, MAX_POPULATION).default(0),
  SIMULATOR_LATENCY_MS: integer(0, 600_000).default(0),
  SIMULATOR_FAULT_LATENCY_MS: integer(0, 600_000).optional(),
  SIMULATOR_FAULT_JITTER_MS: integer(0, 600_000).optional(),
  SIMULATOR_FAULT_ERROR_RATE: rate.optional(),
  SIMULATOR_FAULT_ERROR_STATUS: z.coerce
    .number()
    .pipe(z.union(ERROR_STATUSES.map((s) => z.literal(s))))
    .optional(),
  SIMULATOR_FAULT_RETRY_AFTER_SECONDS: integer(0, 86_400).optional(),
  SIMULATOR_FAULT_HANG_RATE: rate.optional(),
  SIMULATOR_FAULT_RESET_RATE: rate.optional(),
  SIMULATOR_FAULT_MALFORMED_RATE: rate.optional(),
  SIMULATOR_FAULT_TRUNCATED_RATE: rate.optional(),
  SIMULATOR_FAULT_SLOW_BODY_MS: integer(0, 600_000).optional(),
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

export class SimulatorEnvironmentError extends Error {
  override name = 'SimulatorEnvironmentError';
}

const FAULT_VARIABLES = {
  SIMULATOR_FAULT_LATENCY_MS: 'latencyMs',
  SIMULATOR_FAULT_JITTER_MS: 'jitterMs',
  SIMULATOR_FAULT_ERROR_RATE: 'errorRate',
  SIMULATOR_FAULT_ERROR_STATUS: 'errorStatus',
  SIMULATOR_FAULT_RETRY_AFTER_SECONDS: 'retryAfterSeconds',
  SIMULATOR_FAULT_HANG_RATE: 'hangRate',
  SIMULATOR_FAULT_RESET_RATE: 'resetRate',
  SIMULATOR_FAULT_MALFORMED_RATE: 'malformedRate',
  SIMULATOR_FAULT_TRUNCATED_RATE: 'truncatedRate',
  SIMULATOR_FAULT_SLOW_BODY_MS: 'slowBodyMs',
  SIMULATOR_FAULT_BLOCK_JOINS: 'blockJoins',
} as const satisfies Record<string, keyof FaultSettings>;

/** Reads the settings; throws SimulatorEnvironmentError with one line naming every bad variable. */
export function readSimulatorEnvironment(env: NodeJS.ProcessEnv): SimulatorSettings {
  // An empty variable counts as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('SIMULATOR_') && value !== ''));
  const parsed = simulatorEnvironmentSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new SimulatorEnvironmentError(`invalid simulator environment: ${problems}`);
  }
  const e = parsed.data;
  const faults: Partial<FaultSettings> = {};
  for (const [variable, key] of Object.entries(FAULT_VARIABLES)) {
    const value = e[variable as keyof typeof FAULT_VARIABLES];
    if (value !== undefined) Object.assign(faults, { [key]: value });
  }
  return {
    port: e.SIMULATOR_PORT,
    host: e.SIMULATOR_HOST,
    token: e.SIMULATOR_TOKEN ?? randomBytes(24).toString('base64url'),
    tokenGenerated: e.SIMULATOR_TOKEN === undefined,
    population: e.SIMULATOR_POPULATION,
    latencyMs: e.SIMULATOR_LATENCY_MS,
    faults,
  };
}
