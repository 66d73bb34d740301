import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { cloudSimulator, createJob, JOBS_PATH, TOKEN } from './helpers.js';

/** The job-creation body is checked strictly: every mistake a 400 (or 415) in Cloud's error shape, and no job. */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator();
});
afterAll(async () => {
  await app.close();
});

const query = `process_hash:${cloudFixtures.osBinary.md5}`;

describe('job creation body', () => {
  it('accepts the full documented body', async () => {
    const response = await createJob(app, {
      query,
      fields: ['*', 'process_sha256'],
      rows: 10000,
      start: 0,
      sort: [{ field: 'device_timestamp', order: 'DESC' }],
      time_range: { window: '-3d' },
    });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json())).toEqual(['job_id']);
  });

  it.each([
    ['no query', {}, 'query'],
    ['a query that is not a string', { query: 5 }, 'query'],
    ['rows over 10,000', { query, rows: 10001 }, 'rows'],
    ['negative rows', { query, rows: -1 }, 'rows'],
    ['fractional rows', { query, rows: 1.5 }, 'rows'],
    ['rows as a string', { query, rows: '10' }, 'rows'],
    ['negative start', { query, start: -1 }, 'start'],
    ['fields not a list', { query, fields: 'process_hash' }, 'fields'],
    ['an empty fields list', { query, fields: [] }, 'fields'],
    ['a field that is not a name', { query, fields: ['process hash'] }, 'fields[0]'],
    ['a field that is not a string', { query, fields: [1] }, 'fields[0]'],
    ['sort not a list', { query, sort: { field: 'device_timestamp' } }, 'sort'],
    ['a sort order that is neither ASC nor DESC', { query, sort: [{ field: 'device_timestamp', order: 'up' }] }, 'sort[0].order'],
    ['an unknown key in a sort item', { query, sort: [{ field: 'device_timestamp', direction: 'ASC' }] }, 'sort[0].direction'],
    ['criteria (not simulated)', { query, criteria: {} }, 'criteria'],
    ['an unknown key', { query, q: query }, 'q'],
  ])('refuses %s', async (_what, body, field) => {
    const before = app.cloudSimulator.stats.jobsCreated;
    const response = await createJob(app, body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const answer = response.json<{ error_code: string; message: string; field: string }>();
    expect(answer).toMatchObject({ error_code: 'MALFORMED_JSON', field });
    expect(answer.message).toMatch(/^Malformed JSON input: /);
    expect(app.cloudSimulator.stats.jobsCreated).toBe(before);
  });

  it.each([
    ['not JSON', '{"query": '],
    ['a JSON list', '[]'],
    ['JSON null', 'null'],
    ['an empty body', ''],
  ])('refuses %s', async (_what, payload) => {
    const response = await createJob(app, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error_code: 'MALFORMED_JSON' });
  });

  it('refuses a body that is not application/json with 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const response = await app.inject({
        method: 'POST',
        url: JOBS_PATH,
        headers: { 'x-auth-token': TOKEN, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
        payload: JSON.stringify({ query }),
      });
      expect(response.statusCode, String(contentType)).toBe(415);
      expect(response.json()).toMatchObject({ error_code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    const withCharset = await app.inject({
      method: 'POST',
      url: JOBS_PATH,
      headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ query }),
    });
    expect(withCharset.statusCode).toBe(200);
  });

  it('answers a body over the size limit in the same JSON shape', async () => {
    const response = await createJob(app, { query: `process_name:${'a'.repeat(1_100_000)}` });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers other methods and unknown paths 404 in JSON', async () => {
    for (const [method, url] of [
      ['GET', JOBS_PATH],
      ['DELETE', `${JOBS_PATH}/x/results`],
      ['GET', '/api/investigate/v1/orgs/TESTORG1/processes/search_jobs'],
      ['GET', '/'],
    ] as const) {
      const response = await app.inject({ method, url, headers: { 'x-auth-token': TOKEN } });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.json()).toMatchObject({ error_code: 'NOT_FOUND' });
    }
  });
});
