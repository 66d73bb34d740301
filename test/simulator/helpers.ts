import { buildSimulator, type SimulatorInstance, type SimulatorOptions } from '../../src/simulator/app.js';

export const TOKEN = 'test-token-0123456789';

export interface Envelope {
  terms: string[];
  results: Record<string, unknown>[];
  elapsed: number;
  total_results: number;
  highlights: unknown[];
  facets: Record<string, unknown>;
  tagged_pids: Record<string, unknown>;
  start: number;
  filtered: Record<string, unknown>;
  comprehensive_search: boolean;
  all_segments: boolean;
  incomplete_results: boolean;
}

/** The binary-search envelope, exactly these keys. */
export interface BinaryEnvelope {
  terms: string[];
  total_results: number;
  highlights: unknown[];
  facets: Record<string, unknown>;
  results: Record<string, unknown>[];
  elapsed: number;
  start: number;
}

export async function simulator(options: Partial<SimulatorOptions> = {}): Promise<SimulatorInstance> {
  return buildSimulator({ token: TOKEN, ...options });
}

/** GET /api/v1/process with the query string built the way a form encoder would. */
export async function search(app: SimulatorInstance, params: Record<string, string | number>) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return app.inject({ method: 'GET', url: `/api/v1/process?${query}`, headers: { 'x-auth-token': TOKEN } });
}

export async function searchJson(app: SimulatorInstance, params: Record<string, string | number>): Promise<Envelope> {
  const response = await search(app, params);
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${response.body}`);
  return response.json<Envelope>();
}

/** The seed query: process_md5:<md5> digsig_prog_name:"<name>", quoted the safe way. */
export function seedQuery(md5: string, name: string): string {
  return `process_md5:${md5} digsig_prog_name:"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export async function listen(app: SimulatorInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** A GET with the token. */
export async function get(app: SimulatorInstance, url: string) {
  return app.inject({ method: 'GET', url, headers: { 'x-auth-token': TOKEN } });
}

/** GET /api/v1/binary/<md5>/summary. */
export async function summary(app: SimulatorInstance, md5: string) {
  return get(app, `/api/v1/binary/${md5}/summary`);
}

/** GET /api/v1/binary with the query string built the way a form encoder would. */
export async function binarySearch(app: SimulatorInstance, params: Record<string, string | number>) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return get(app, `/api/v1/binary?${query}`);
}

export async function binarySearchJson(app: SimulatorInstance, params: Record<string, string | number>): Promise<BinaryEnvelope> {
  const response = await binarySearch(app, params);
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${response.body}`);
  return response.json<BinaryEnvelope>();
}
