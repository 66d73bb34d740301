import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CannedResponse } from '../canned-response.js';
import type { CloudDataset } from './dataset.js';
import { apiRoute, type DeliveryContext } from './delivery.js';
import { notFoundResponse, serviceError } from './error-responses.js';
import { CREATE_JOB_PATH, RESULTS_PATH } from './gate.js';
import type { JobStore } from './jobs.js';
import { queryHashes } from './query.js';
import { readCreateJob, readResultsPage, RequestError } from './requests.js';
import { pickFields, renderRow, selectFields, type RowContext } from './rows.js';
import { runSearch } from './search.js';
import { recordJob } from './stats.js';

/**
 * The two Cloud endpoints the simulator answers:
 *   POST /api/investigate/v2/orgs/{org_key}/processes/search_jobs
 *   GET  /api/investigate/v2/orgs/{org_key}/processes/search_jobs/{job_id}/results
 * (the gate in gate.ts has already checked the key, the rate and the org key).
 */

export interface ApiContext extends DeliveryContext {
  dataset: CloudDataset;
  jobs: JobStore;
  rows: RowContext;
  now: () => number;
  /** How long a job takes to complete unless the jobDurationMs fault says otherwise, ms. */
  jobDurationMs: number;
}

const JSON_TYPE = 'application/json;charset=UTF-8';

function ok(body: object): CannedResponse {
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(body) };
}

function requestError(error: RequestError): CannedResponse {
  return serviceError(error.errorCode === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400, error.errorCode, error.message, error.field);
}

function createJob(context: ApiContext, request: FastifyRequest): CannedResponse {
  let input;
  try {
    input = readCreateJob(request.headers['content-type'], request.body, context.now());
  } catch (error) {
    if (error instanceof RequestError) return requestError(error);
    throw error;
  }
  const result = runSearch(context.dataset, { query: input.query, sort: input.sort, fromMs: input.fromMs, toMs: input.toMs }, context.rows);
  const faults = context.faults.jobFaults();
  const job = context.jobs.create({
    durationMs: faults.durationMs ?? context.jobDurationMs,
    neverCompletes: faults.neverCompletes,
    result,
    fields: selectFields(input.fields),
  });
  recordJob(context.stats, input.text, queryHashes(input.query).length);
  return ok({ job_id: job.id });
}

function readResults(context: ApiContext, request: FastifyRequest): CannedResponse {
  let page;
  try {
    page = readResultsPage(request.query);
  } catch (error) {
    if (error instanceof RequestError) return requestError(error);
    throw error;
  }
  const { jobId } = request.params as { jobId: string };
  const job = context.jobs.get(jobId);
  if (job === undefined) return notFoundResponse('No search job with this id: it never existed, or it expired');
  const envelope = context.jobs.read(job, page, (ref) => {
    const { binary, k } = context.dataset.rowOfRef(ref);
    return pickFields(renderRow(binary, k, context.rows), job.fields);
  });
  return ok(envelope);
}

export function registerApiRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post(
    CREATE_JOB_PATH,
    apiRoute(context, (request) => createJob(context, request)),
  );
  app.get(
    RESULTS_PATH,
    apiRoute(context, (request) => readResults(context, request)),
  );
}
