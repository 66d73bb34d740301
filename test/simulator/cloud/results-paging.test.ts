import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { MAX_AVAILABLE } from '../../../src/simulator/cloud/search.js';
import { cloudSimulator, createJob, jobId, ManualClock, readResults, resultsJson } from './helpers.js';

/** Pages of a complete job: start and rows, the 10,000-row ceiling, sort order, time ranges. */

const clock = new ManualClock();
let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator({ population: 10_000, now: clock.now, rateLimit: { limit: 100_000 } });
});
afterAll(async () => {
  await app.close();
});

const { popular } = cloudFixtures;
const popularQuery = `process_hash:${popular.md5}`;
const guids = (rows: Record<string, unknown>[]): string[] => rows.map((row) => row['process_guid'] as string);

describe('paging', () => {
  it('defaults to start 0 and 10 rows', async () => {
    const id = await jobId(app, { query: popularQuery });
    const page = await resultsJson(app, id);
    expect(page.results).toHaveLength(10);
    expect(page.num_found).toBe(popular.rows);
  });

  it('serves [start, start + rows) of one fixed order, so pages tile the whole result', async () => {
    const id = await jobId(app, { query: popularQuery, fields: ['process_guid'] });
    const all = guids((await resultsJson(app, id, '?start=0&rows=10000')).results);
    expect(all).toHaveLength(popular.rows);
    expect(new Set(all).size).toBe(popular.rows);
    const pages: string[] = [];
    for (let start = 0; start < popular.rows; start += 700) {
      pages.push(...guids((await resultsJson(app, id, `?start=${start}&rows=700`)).results));
    }
    expect(pages).toEqual(all);
    // Reading again, or through another job with the same query, gives the same order.
    expect(guids((await resultsJson(app, id, '?start=0&rows=10000')).results)).toEqual(all);
    const again = await jobId(app, { query: popularQuery, fields: ['process_guid'] });
    expect(guids((await resultsJson(app, again, '?start=0&rows=10000')).results)).toEqual(all);
  });

  it('sorts newest first by default (backend_timestamp DESC)', async () => {
    const id = await jobId(app, { query: popularQuery, fields: ['backend_timestamp'] });
    const times = (await resultsJson(app, id, '?rows=10000')).results.map((row) => Date.parse(row['backend_timestamp'] as string));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('rows=0 only counts, and a start past the end is an empty page', async () => {
    const id = await jobId(app, { query: popularQuery });
    expect(await resultsJson(app, id, '?start=0&rows=0')).toMatchObject({
      results: [],
      num_found: popular.rows,
      num_available: popular.rows,
    });
    expect(await resultsJson(app, id, `?start=${popular.rows}&rows=10`)).toMatchObject({ results: [], num_found: popular.rows });
    expect((await resultsJson(app, id, `?start=${popular.rows - 3}&rows=10`)).results).toHaveLength(3);
  });

  it('caps rows at 10,000 and never serves rows past num_available', async () => {
    const id = await jobId(app, { query: `NOT process_hash:${popular.md5}`, fields: ['process_guid'] });
    const page = await resultsJson(app, id, '?start=0&rows=50000');
    expect(page.num_found).toBeGreaterThan(MAX_AVAILABLE);
    expect(page.num_available).toBe(MAX_AVAILABLE);
    expect(page.results).toHaveLength(MAX_AVAILABLE);
    expect((await resultsJson(app, id, '?start=9995&rows=100')).results).toHaveLength(5);
    expect((await resultsJson(app, id, '?start=10000&rows=100')).results).toEqual([]);
  });

  it('keeps the first 10,000 of a big scan in sort order', async () => {
    const id = await jobId(app, { query: `NOT process_hash:${popular.md5}`, fields: ['backend_timestamp', 'process_guid'] });
    const rows = (await resultsJson(app, id, '?rows=10000')).results;
    const times = rows.map((row) => Date.parse(row['backend_timestamp'] as string));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // Ascending order on the same job is the other end of the same result set.
    const ascending = await jobId(app, {
      query: `NOT process_hash:${popular.md5}`,
      fields: ['backend_timestamp'],
      sort: [{ field: 'backend_timestamp', order: 'asc' }],
    });
    const oldest = (await resultsJson(app, ascending, '?rows=1')).results[0] as Record<string, unknown>;
    expect(Date.parse(oldest['backend_timestamp'] as string)).toBeLessThan(Math.min(...times));
  });

  it('refuses a start or rows that is not a non-negative integer', async () => {
    const id = await jobId(app, { query: popularQuery });
    for (const query of ['?rows=-1', '?rows=abc', '?start=1.5', '?start=', '?rows=1&rows=2']) {
      const response = await readResults(app, id, query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json()).toMatchObject({ error_code: 'INVALID_PARAMETER' });
    }
  });
});

describe('sort and time_range', () => {
  it('sorts on the fields asked for, in either direction, ties by row order', async () => {
    const body = { query: popularQuery, fields: ['device_name', 'process_guid'] };
    const ascending = await jobId(app, { ...body, sort: [{ field: 'device_name', order: 'ASC' }] });
    const descending = await jobId(app, { ...body, sort: [{ field: 'device_name', order: 'desc' }] });
    const names = (id: string) =>
      resultsJson(app, id, '?rows=10000').then((page) => page.results.map((row) => row['device_name'] as string));
    const up = await names(ascending);
    expect(up).toEqual([...up].sort());
    expect(new Set(up).size).toBe(500);
    const down = await names(descending);
    expect(down).toEqual([...up].reverse());
  });

  it('refuses sorting on a list field or an unknown one', async () => {
    for (const field of ['process_hash', 'bogus']) {
      const response = await createJob(app, { query: popularQuery, sort: [{ field }] });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error_code: 'MALFORMED_JSON', field: 'sort[0].field' });
    }
  });

  it('keeps only rows whose device_timestamp is inside time_range', async () => {
    const id = await jobId(app, { query: popularQuery, fields: ['device_timestamp'] });
    const times = (await resultsJson(app, id, '?rows=10000')).results.map((row) => row['device_timestamp'] as string).sort();
    const from = times[1000] as string;
    const to = times[1999] as string;
    const ranged = await jobId(app, { query: popularQuery, time_range: { start: from, end: to } });
    expect((await resultsJson(app, ranged, '?rows=0')).num_found).toBe(1000);

    // A window counts back from now: fixture rows are from the last couple of days, none from the last minute.
    expect((await resultsJson(app, await jobId(app, { query: popularQuery, time_range: { window: '-1m' } }), '?rows=0')).num_found).toBe(0);
    expect((await resultsJson(app, await jobId(app, { query: popularQuery, time_range: { window: '-2w' } }), '?rows=0')).num_found).toBe(
      popular.rows,
    );
    // The window wins over start and end.
    const both = await jobId(app, { query: popularQuery, time_range: { window: '-2w', start: to, end: to } });
    expect((await resultsJson(app, both, '?rows=0')).num_found).toBe(popular.rows);
  });

  it('refuses a malformed time_range', async () => {
    for (const time_range of [
      { start: 'yesterday' },
      { window: '2w' },
      { window: '-2x' },
      { start: '2025-01-02T00:00:00Z', end: '2025-01-01T00:00:00Z' },
      { bogus: 1 },
    ]) {
      const response = await createJob(app, { query: popularQuery, time_range });
      expect(response.statusCode, JSON.stringify(time_range)).toBe(400);
      expect(response.json()).toMatchObject({ error_code: 'MALFORMED_JSON' });
    }
  });
});
