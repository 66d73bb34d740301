import { buildCloudSimulator, type CloudSimulatorInstance, type CloudSimulatorOptions } from '../../../src/simulator/cloud/app.js';

/** Fixed credentials in the real shapes: 8, 10 and 24 upper-case letters or digits. */
export const ORG_KEY = 'TESTORG1';
export const API_ID = 'APIID01234';
export const API_SECRET = 'SECRETSECRETSECRET012345';
export const TOKEN = `${API_SECRET}/${API_ID}`;

export const JOBS_PATH = `/api/investigate/v2/orgs/${ORG_KEY}/processes/search_jobs`;
export const LOOKUP_FIELDS = ['process_hash', 'process_sha256', 'process_name', 'process_publisher', 'process_publisher_state'];

export interface ResultsEnvelope {
  results: Record<string, unknown>[];
  num_found: number;
  num_available: number;
  approximate_unaggregated: number;
  num_aggregated: number;
  contacted: number;
  completed: number;
  message?: string;
}

/** A clock a test moves by hand. */
export class ManualClock {
  constructor(public ms = Date.parse('2025-03-01T12:00:00.000Z')) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A simulator with the fixed credentials and, unless told otherwise, jobs that complete at once. */
export async function cloudSimulator(options: CloudSimulatorOptions = {}): Promise<CloudSimulatorInstance> {
  return buildCloudSimulator({ orgKey: ORG_KEY, apiId: API_ID, apiSecret: API_SECRET, jobDurationMs: 0, ...options });
}

export async function createJob(app: CloudSimulatorInstance, body: unknown, token = TOKEN) {
  return app.inject({
    method: 'POST',
    url: JOBS_PATH,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Creates a job and returns its id; fails the test if the simulator refuses. */
export async function jobId(app: CloudSimulatorInstance, body: Record<string, unknown>): Promise<string> {
  const response = await createJob(app, body);
  if (response.statusCode !== 200) throw new Error(`create job: ${response.statusCode} ${response.body}`);
  return response.json<{ job_id: string }>().job_id;
}

export async function readResults(app: CloudSimulatorInstance, id: string, query = '') {
  return app.inject({ method: 'GET', url: `${JOBS_PATH}/${id}/results${query}`, headers: { 'x-auth-token': TOKEN } });
}

export async function resultsJson(app: CloudSimulatorInstance, id: string, query = ''): Promise<ResultsEnvelope> {
  const response = await readResults(app, id, query);
  if (response.statusCode !== 200) throw new Error(`results: ${response.statusCode} ${response.body}`);
  return response.json<ResultsEnvelope>();
}

/** Creates a job for `query` (with the lookup's five fields unless given others) and reads one page of it. */
export async function search(
  app: CloudSimulatorInstance,
  query: string,
  options: { fields?: string[]; page?: string; extra?: Record<string, unknown> } = {},
): Promise<ResultsEnvelope> {
  const id = await jobId(app, { query, fields: options.fields ?? LOOKUP_FIELDS, rows: 10000, start: 0, ...options.extra });
  return resultsJson(app, id, options.page ?? '?start=0&rows=10000');
}

export async function admin(app: CloudSimulatorInstance, method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: unknown) {
  return app.inject({
    method,
    url,
    headers: { 'x-auth-token': TOKEN, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}
