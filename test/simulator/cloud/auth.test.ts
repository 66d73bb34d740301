import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCloudSimulator, type CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { API_ID, API_SECRET, cloudSimulator, createJob, JOBS_PATH, ORG_KEY, TOKEN } from './helpers.js';

/** X-Auth-Token and the org key in the path. */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator();
});
afterAll(async () => {
  await app.close();
});

const query = { query: `process_hash:${cloudFixtures.osBinary.md5}` };

describe('X-Auth-Token', () => {
  it('accepts <API secret>/<API ID>', async () => {
    expect((await createJob(app, query, `${API_SECRET}/${API_ID}`)).statusCode).toBe(200);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the parts swapped', `${API_ID}/${API_SECRET}`],
    ['the secret alone', API_SECRET],
    ['the id alone', API_ID],
    ['a wrong secret', `${'X'.repeat(24)}/${API_ID}`],
    ['a wrong id', `${API_SECRET}/${'Y'.repeat(10)}`],
    ['lower case', TOKEN.toLowerCase()],
    ['extra whitespace', ` ${TOKEN}`],
    ['a trailing slash', `${TOKEN}/`],
    ['the EDR simulator style', 'test-token-0123456789'],
  ])('refuses %s with 401 JSON that never echoes the token', async (_what, token) => {
    const before = app.cloudSimulator.stats.unauthorized;
    const response = await app.inject({
      method: 'POST',
      url: JOBS_PATH,
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-auth-token': token }) },
      payload: JSON.stringify(query),
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ success: false, message: expect.stringContaining('Unauthorized') as unknown });
    for (const secret of [API_SECRET, API_ID, TOKEN, token].filter((part): part is string => part !== undefined && part.length > 3)) {
      expect(response.body).not.toContain(secret);
      expect(JSON.stringify(response.headers)).not.toContain(secret);
    }
    expect(app.cloudSimulator.stats.unauthorized).toBe(before + 1);
  });

  it('guards results reads, unknown paths and the admin endpoints too', async () => {
    for (const [method, url] of [
      ['GET', `${JOBS_PATH}/2c292717-80ed-4f0d-845f-779e09470920/results`],
      ['GET', '/nowhere'],
      ['GET', '/__simulator/stats'],
      ['GET', '/__simulator/faults'],
      ['DELETE', '/__simulator/faults'],
      ['POST', '/__simulator/stats/reset'],
    ] as const) {
      const response = await app.inject({ method, url, headers: { 'x-auth-token': 'nope' } });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('org key', () => {
  it('refuses a valid key on another org with 403, for both endpoints, case-sensitively', async () => {
    for (const org of ['OTHERORG', ORG_KEY.toLowerCase()]) {
      const base = `/api/investigate/v2/orgs/${org}/processes/search_jobs`;
      const create = await app.inject({
        method: 'POST',
        url: base,
        headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' },
        payload: JSON.stringify(query),
      });
      expect(create.statusCode).toBe(403);
      expect(create.json()).toMatchObject({ success: false });
      const read = await app.inject({ method: 'GET', url: `${base}/x/results`, headers: { 'x-auth-token': TOKEN } });
      expect(read.statusCode).toBe(403);
    }
    expect(app.cloudSimulator.stats.forbidden).toBeGreaterThanOrEqual(4);
  });

  it('cannot read a job through another org', async () => {
    const created = await createJob(app, query);
    const id = created.json<{ job_id: string }>().job_id;
    const other = await app.inject({
      method: 'GET',
      url: `/api/investigate/v2/orgs/OTHERORG/processes/search_jobs/${id}/results`,
      headers: { 'x-auth-token': TOKEN },
    });
    expect(other.statusCode).toBe(403);
  });
});

describe('credentials', () => {
  it('generates credentials of the real shapes when none are given, different each time', async () => {
    const a = await buildCloudSimulator();
    const b = await buildCloudSimulator();
    try {
      const { orgKey, apiId, apiSecret } = a.cloudSimulator.credentials;
      expect(orgKey).toMatch(/^[A-Z0-9]{8}$/);
      expect(apiId).toMatch(/^[A-Z0-9]{10}$/);
      expect(apiSecret).toMatch(/^[A-Z0-9]{24}$/);
      expect(a.cloudSimulator.authToken).toBe(`${apiSecret}/${apiId}`);
      expect(b.cloudSimulator.credentials.apiSecret).not.toBe(apiSecret);
      const response = await a.inject({
        method: 'POST',
        url: `/api/investigate/v2/orgs/${orgKey}/processes/search_jobs`,
        headers: { 'x-auth-token': a.cloudSimulator.authToken, 'content-type': 'application/json' },
        payload: JSON.stringify(query),
      });
      expect(response.statusCode).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses given credentials that no real tenant could have', async () => {
    await expect(buildCloudSimulator({ apiSecret: 'short' })).rejects.toThrow(/apiSecret must be 24/);
    await expect(buildCloudSimulator({ apiId: 'apiid01234' })).rejects.toThrow(/apiId must be 10/);
    await expect(buildCloudSimulator({ orgKey: 'ORG/KEY1' })).rejects.toThrow(/orgKey must be 8/);
  });
});
