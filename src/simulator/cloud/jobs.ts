import { randomUUID } from 'node:crypto';
import type { CloudRow } from './rows.js';
import { MAX_AVAILABLE, type SearchResult } from './search.js';

/**
 * Search jobs: created by POST .../search_jobs, read by GET .../results.
 *
 * A job's search runs when the job is created (the data never changes, so
 * the answer is known at once); what the job simulates is Cloud's progress
 * reporting. From the first read, `contacted` is CONTACTED (the searchers
 * the backend asked) and `completed` rises in proportion to the time since
 * creation, reaching `contacted` after the job's duration. Until then
 * `results` is empty and num_found is the same proportion of the total, as
 * the SDK's fixtures show a job in progress with a partial count. A job
 * created under the jobNeverCompletes fault stops at contacted - 1.
 *
 * Jobs are kept for JOB_TTL_MS after creation (a read after that is a 404)
 * and at most MAX_JOBS at a time (creating one more drops the oldest).
 */

export const CONTACTED = 45;
/** How long a job takes to complete unless told otherwise, ms. */
export const DEFAULT_JOB_DURATION_MS = 1500;
export const JOB_TTL_MS = 30 * 60_000;
export const MAX_JOBS = 10_000;
/** What Cloud says about a finished search that found nothing, as recorded in the SDK's fixtures. */
export const NO_DATA_MESSAGE = 'No data available, verify your endpoint communications or try again later';

export interface Job {
  readonly id: string;
  readonly createdAt: number;
  readonly durationMs: number;
  readonly neverCompletes: boolean;
  /** Set by completeJob(): the job reports complete from then on, whatever its duration or faults. */
  forcedComplete: boolean;
  readonly result: SearchResult;
  /** The fields its rows carry (see rows.ts selectFields). */
  readonly fields: readonly string[];
}

export interface JobProgress {
  contacted: number;
  completed: number;
  complete: boolean;
}

export interface ResultsEnvelope {
  results: CloudRow[];
  num_found: number;
  num_available: number;
  approximate_unaggregated: number;
  num_aggregated: number;
  contacted: number;
  completed: number;
  message?: string;
}

export class JobStore {
  // Insertion order is creation order, which is also expiry order.
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    this.evict();
    return this.jobs.size;
  }

  private evict(): void {
    const cutoff = this.now() - JOB_TTL_MS;
    for (const [id, job] of this.jobs) {
      if (job.createdAt > cutoff && this.jobs.size <= MAX_JOBS) break;
      this.jobs.delete(id);
    }
  }

  create(spec: { durationMs: number; neverCompletes: boolean; result: SearchResult; fields: readonly string[] }): Job {
    const job: Job = { id: randomUUID(), createdAt: this.now(), forcedComplete: false, ...spec };
    this.jobs.set(job.id, job);
    this.evict();
    return job;
  }

  get(id: string): Job | undefined {
    this.evict();
    return this.jobs.get(id);
  }

  complete(id: string): boolean {
    const job = this.get(id);
    if (job === undefined) return false;
    job.forcedComplete = true;
    return true;
  }

  expire(id: string): boolean {
    return this.jobs.delete(id);
  }

  progress(job: Job): JobProgress {
    if (job.forcedComplete) return { contacted: CONTACTED, completed: CONTACTED, complete: true };
    const elapsed = this.now() - job.createdAt;
    const share = job.durationMs <= 0 ? 1 : Math.min(1, Math.max(0, elapsed / job.durationMs));
    let completed = Math.floor(CONTACTED * share);
    if (job.neverCompletes) completed = Math.min(completed, CONTACTED - 1);
    return { contacted: CONTACTED, completed, complete: completed >= CONTACTED };
  }

  /** The results envelope for rows [start, start + rows) of a job, rendering rows with `render`. */
  read(job: Job, page: { start: number; rows: number }, render: (ref: number) => CloudRow): ResultsEnvelope {
    const progress = this.progress(job);
    const total = job.result.total;
    const found = progress.complete ? total : Math.floor((total * progress.completed) / progress.contacted);
    const available = Math.min(found, MAX_AVAILABLE);
    const results: CloudRow[] = [];
    if (progress.complete) {
      const end = Math.min(page.start + page.rows, job.result.refs.length);
      for (let i = page.start; i < end; i += 1) results.push(render(job.result.refs[i] as number));
    }
    return {
      results,
      num_found: found,
      num_available: available,
      approximate_unaggregated: found,
      num_aggregated: found,
      contacted: progress.contacted,
      completed: progress.completed,
      ...(progress.complete && total === 0 ? { message: NO_DATA_MESSAGE } : {}),
    };
  }
}
