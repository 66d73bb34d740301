import { z } from 'zod';
import { ERROR_STATUSES, type FaultSettings } from './faults.js';

/**
 * What both simulators' environment readers (environment.ts and
 * cloud/environment.ts) share: which variables count, the one-line error
 * naming every bad one, the value schemas, and the SIMULATOR_FAULT_*
 * variables common to both (same names, same meanings, same ranges), so that
 * a fault set up for one simulator reads the same for the other.
 */

export class SimulatorEnvironmentError extends Error {
  override name = 'SimulatorEnvironmentError';
}

/**
 * The SIMULATOR_* variables of `env` (over `defaults`) through `schema`; an
 * empty variable counts as unset, as shells and .env files often leave them.
 * Throws SimulatorEnvironmentError with one line naming every bad variable,
 * so a typo in a long list is found at once.
 */
export function parseEnvironment<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
  defaults: Record<string, string> = {},
): z.output<Schema> {
  const present = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('SIMULATOR_') && entry[1] !== undefined && entry[1] !== '',
  );
  const parsed = schema.safeParse({ ...defaults, ...Object.fromEntries(present) });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  throw new SimulatorEnvironmentError(`invalid simulator environment: ${problems}`);
}

export const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rate = z.coerce.number().min(0).max(1);
// z.coerce.boolean() would take "false" as true: spell the values out.
export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

/** The schemas of the fault variables both simulators read, in the order their errors are listed. */
export const sharedFaultVariableSchemas = {
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
};

/** The fault setting each shared variable sets. */
export const SHARED_FAULT_VARIABLES = {
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
} as const satisfies Record<keyof typeof sharedFaultVariableSchemas, keyof FaultSettings>;

/** The initial fault settings the parsed variables give: one setting per variable that was set. */
export function faultsFrom<Settings>(parsed: object, variables: Readonly<Record<string, keyof Settings>>): Partial<Settings> {
  const values = parsed as Record<string, unknown>;
  const faults: Partial<Settings> = {};
  for (const [variable, key] of Object.entries(variables)) {
    const value = values[variable];
    if (value !== undefined) Object.assign(faults, { [key]: value });
  }
  return faults;
}
