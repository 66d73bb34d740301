import type { CloudCredentials } from './credentials.js';
import type { CloudFaultSettings, CloudFaultUpdate } from './faults.js';
import type { RateLimitSettings } from './rate-limit.js';
import type { CloudSimulatorStats } from './stats.js';

/** The handle tests and tools use to observe and steer a Cloud simulator (`instance.cloudSimulator`). */
export interface CloudSimulatorControl {
  /** Live counters, mutated in place. */
  readonly stats: CloudSimulatorStats;
  resetStats(): void;
  /** A copy of the current fault settings. */
  readonly faults: CloudFaultSettings;
  /** Applies a partial update (validated as a whole; a ZodError changes nothing) and returns the new settings. */
  setFaults(update: CloudFaultUpdate | Partial<CloudFaultSettings>): CloudFaultSettings;
  /** Back to no faults at all (not to the initial settings). */
  clearFaults(): CloudFaultSettings;
  /** The API key and org the simulator accepts. */
  readonly credentials: Readonly<CloudCredentials>;
  /** The full X-Auth-Token header value: `<apiSecret>/<apiId>`. */
  readonly authToken: string;
  /** How long a job takes to complete when no fault overrides it, ms. */
  readonly jobDurationMs: number;
  readonly rateLimit: Readonly<RateLimitSettings>;
  /** Jobs currently kept (expired ones are dropped first). */
  readonly jobCount: number;
  /** Makes a job report complete from now on; false if there is no such job. */
  completeJob(jobId: string): boolean;
  /** Forgets a job, as if it had expired (its reads get 404); false if there was no such job. */
  expireJob(jobId: string): boolean;
}
