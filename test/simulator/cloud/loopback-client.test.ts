import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures, fixtureRowFacts } from '../../../src/simulator/cloud/fixtures.js';
import { cloudPopulationEntry } from '../../../src/simulator/cloud/population.js';
import { cloudSimulator, JOBS_PATH, LOOKUP_FIELDS, TOKEN, type ResultsEnvelope } from './helpers.js';

/**
 * A client the way the official SDK drives Cloud, over a real loopback socket:
 * create a job, poll `rows=0` until contacted > 0 and completed >= contacted,
 * then page through the results.
 */

let app: CloudSimulatorInstance;
let base: string;
beforeAll(async () => {
  app = await cloudSimulator({ jobDurationMs: 150, population: 1000 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
});

async function lookup(query: string, pageSize: number): Promise<{ rows: Record<string, unknown>[]; polls: number; numFound: number }> {
  const headers = { 'x-auth-token': TOKEN, 'content-type': 'application/json' };
  const created = await fetch(`${base}${JOBS_PATH}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, fields: LOOKUP_FIELDS, rows: 10000, start: 0 }),
  });
  expect(created.status).toBe(200);
  const { job_id: id } = (await created.json()) as { job_id: string };
  const url = (start: number, rows: number) => `${base}${JOBS_PATH}/${id}/results?start=${start}&rows=${rows}`;
  let polls = 0;
  for (;;) {
    polls += 1;
    const status = (await (await fetch(url(0, 0), { headers })).json()) as ResultsEnvelope;
    if (status.contacted > 0 && status.completed >= status.contacted) break;
    expect(status.results).toEqual([]);
    if (polls > 100) throw new Error('the job never completed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const rows: Record<string, unknown>[] = [];
  let numFound = 0;
  for (let start = 0; ; start += pageSize) {
    const page = (await (await fetch(url(start, pageSize), { headers })).json()) as ResultsEnvelope;
    numFound = page.num_found;
    rows.push(...page.results);
    if (start + pageSize >= page.num_available) break;
  }
  return { rows, polls, numFound };
}

describe('an SDK-style client over loopback', () => {
  it('polls until complete, then pages through a batch of hashes to its ground truth', async () => {
    const { popular, disagreeingRows, signedVerified } = cloudFixtures;
    const entry = cloudPopulationEntry(321);
    const query = `process_hash:(${popular.sha256} OR ${disagreeingRows.md5} OR ${signedVerified.sha256} OR ${entry.md5})`;
    const { rows, polls, numFound } = await lookup(query, 1000);
    expect(polls).toBeGreaterThan(1);
    const expected = popular.rows + disagreeingRows.rows + signedVerified.rows + entry.rowCount;
    expect(numFound).toBe(expected);
    expect(rows).toHaveLength(expected);
    // Every row is reported with the states its binary's ground truth says.
    const bySha = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) bySha.set(row['process_sha256'] as string, [...(bySha.get(row['process_sha256'] as string) ?? []), row]);
    expect(bySha.get(entry.sha256)?.map((row) => row['process_publisher_state'])).toEqual(Array(entry.rowCount).fill([...entry.states]));
    expect(new Set(bySha.get(disagreeingRows.sha256)?.map((row) => JSON.stringify(row['process_publisher_state'])))).toEqual(
      new Set([0, 1].map((k) => JSON.stringify(fixtureRowFacts(disagreeingRows, k).states))),
    );
    expect(bySha.get(popular.sha256)).toHaveLength(popular.rows);
  });
});
