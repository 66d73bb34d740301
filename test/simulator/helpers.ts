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
