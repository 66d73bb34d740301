import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * The run-time control endpoints both simulators have, behind the API's own
 * credentials: GET, PUT (a partial update, validated as a whole) and DELETE
 * /__simulator/faults, GET /__simulator/stats and POST
 * /__simulator/stats/reset. The paths start with /__simulator, which no
 * Carbon Black path does, and are the same on both simulators so a test or a
 * benchmark steers either alike. Each simulator brings its own fault schema,
 * stats snapshot and, where its bodies reach the routes unparsed, a reader.
 */

/** What the routes steer: the part of a simulator's control handle that both have. */
export interface FaultsAndStatsControl<Settings, Update, Stats> {
  readonly stats: Stats;
  resetStats(): void;
  readonly faults: Settings;
  setFaults(update: Update): Settings;
  clearFaults(): Settings;
}

/** A PUT body turned into the update to validate, or why it cannot be one. */
export type BodyReading = { update: unknown } | { unreadable: string };

export interface ControlRoutesOptions<Settings, Schema extends z.ZodType, Stats> {
  control: FaultsAndStatsControl<Settings, z.output<Schema>, Stats>;
  /** The partial, strict update PUT takes. */
  schema: Schema;
  /** A plain copy of the live stats, safe to send. */
  snapshot: (stats: Stats) => Stats;
  /** Turns the PUT body into the update; by default a parsed body as it is, and none as `{}`. */
  readBody?: (body: unknown) => BodyReading;
}

function invalidFaults(message: string, issues: { path: string; message: string }[] = []) {
  return { reason: 'invalid_faults', message, issues };
}

export function registerControlRoutes<Settings, Schema extends z.ZodType, Stats>(
  app: FastifyInstance,
  options: ControlRoutesOptions<Settings, Schema, Stats>,
): void {
  const { control, schema, snapshot } = options;
  const readBody = options.readBody ?? ((body: unknown): BodyReading => ({ update: body ?? {} }));

  app.get('/__simulator/faults', async () => control.faults);

  app.put('/__simulator/faults', async (request, reply) => {
    const reading = readBody(request.body);
    if ('unreadable' in reading) return reply.code(400).send(invalidFaults(reading.unreadable));
    const parsed = schema.safeParse(reading.update);
    if (!parsed.success) {
      return reply.code(400).send(
        invalidFaults(
          z.prettifyError(parsed.error),
          parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
        ),
      );
    }
    return control.setFaults(parsed.data);
  });

  app.delete('/__simulator/faults', async () => control.clearFaults());

  app.get('/__simulator/stats', async () => snapshot(control.stats));

  app.post('/__simulator/stats/reset', async () => {
    control.resetStats();
    return snapshot(control.stats);
  });
}
