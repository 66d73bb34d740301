import { z } from 'zod';
import { FaultState, faultUpdateSchema, type FaultDecision, type FaultSettings } from '../faults.js';

/**
 * The Cloud simulator's fault settings: the EDR simulator's (latency,
 * jitter, error rate and status, failNext, hang, reset, malformed,
 * truncated, slow body; same meanings, same single draw per request, see
 * ../faults.ts) without `blockJoins`, which has no Cloud counterpart, plus
 * two about search jobs:
 *
 * - `jobDurationMs`: jobs created while it is set take this long to
 *   complete, instead of the simulator's jobDurationMs (null removes it).
 * - `jobNeverCompletes`: jobs created while it is on report contacted 45
 *   but stop at completed 44, forever (a client must time out).
 *
 * Both are read when a job is created, so changing them never alters a job
 * that already exists.
 */

export interface CloudFaultSettings extends Omit<FaultSettings, 'blockJoins'> {
  /** Overrides the simulator's jobDurationMs for jobs created while set. */
  jobDurationMs?: number;
  jobNeverCompletes: boolean;
}

export type CloudFaultDecision = Omit<FaultDecision, 'blockJoins'>;

export const MAX_JOB_DURATION_MS = 3_600_000;

export const cloudFaultUpdateSchema = faultUpdateSchema
  .omit({ blockJoins: true })
  .extend({
    jobDurationMs: z.number().int().min(0).max(MAX_JOB_DURATION_MS).nullable(),
    jobNeverCompletes: z.boolean(),
  })
  .partial()
  .strict();

export type CloudFaultUpdate = z.input<typeof cloudFaultUpdateSchema>;

export class CloudFaultState {
  private readonly shared: FaultState;
  private jobDurationMs: number | undefined;
  private jobNeverCompletes = false;

  constructor(initial: Partial<CloudFaultSettings> = {}, random: () => number = Math.random) {
    this.shared = new FaultState({}, random);
    this.set(initial);
  }

  get settings(): CloudFaultSettings {
    const { blockJoins: _unused, ...shared } = this.shared.settings;
    return {
      ...shared,
      ...(this.jobDurationMs === undefined ? {} : { jobDurationMs: this.jobDurationMs }),
      jobNeverCompletes: this.jobNeverCompletes,
    };
  }

  /** Validates the whole update first (a ZodError leaves the settings as they were), then applies it. */
  set(update: CloudFaultUpdate | Partial<CloudFaultSettings>): CloudFaultSettings {
    const { jobDurationMs, jobNeverCompletes, ...shared } = cloudFaultUpdateSchema.parse(update);
    this.shared.set(shared);
    if (jobDurationMs === null) this.jobDurationMs = undefined;
    else if (jobDurationMs !== undefined) this.jobDurationMs = jobDurationMs;
    if (jobNeverCompletes !== undefined) this.jobNeverCompletes = jobNeverCompletes;
    return this.settings;
  }

  clear(): CloudFaultSettings {
    this.shared.clear();
    this.jobDurationMs = undefined;
    this.jobNeverCompletes = false;
    return this.settings;
  }

  /** One request's fate (spends a failNext if any is left). */
  decide(): CloudFaultDecision {
    const { blockJoins: _unused, ...decision } = this.shared.decide();
    return decision;
  }

  /** What a job created now should do. */
  jobFaults(): { durationMs: number | undefined; neverCompletes: boolean } {
    return { durationMs: this.jobDurationMs, neverCompletes: this.jobNeverCompletes };
  }
}
