import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudBanner, LOOKUP_FIELDS } from '../../../src/simulator/cloud/banner.js';
import { CLOUD_FIXTURE_LIST, unseenFixture } from '../../../src/simulator/cloud/fixtures.js';
import { cloudSimulator, JOBS_PATH, TOKEN } from './helpers.js';

/** The start-up banner, as a function (main.test.ts runs it in a real process). */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator({ jobDurationMs: 2500, rateLimit: { limit: 60, windowMs: 60_000 } });
});
afterAll(async () => {
  await app.close();
});

const lines = (generated: ('orgKey' | 'apiId' | 'apiSecret')[] = []) =>
  cloudBanner('http://127.0.0.1:9999', app.cloudSimulator, { generated, population: 42, buildMs: 7 });

describe('cloudBanner', () => {
  it('starts with the address and the credentials, the full header value included', () => {
    const [first, org, id, secret, header] = lines();
    expect(first).toBe('Carbon Black Cloud simulator listening on http://127.0.0.1:9999');
    expect(org).toBe('  org key:      TESTORG1');
    expect(id).toBe('  API ID:       APIID01234');
    expect(secret).toBe('  API secret:   SECRETSECRETSECRET012345');
    expect(header).toBe(`  X-Auth-Token: ${TOKEN}`);
  });

  it('says which credentials were generated and how to choose them', () => {
    const text = lines(['apiSecret']).join('\n');
    expect(text).toContain('API secret:   SECRETSECRETSECRET012345   (generated; set SIMULATOR_CLOUD_API_SECRET to choose one)');
    expect(text).not.toContain('SIMULATOR_CLOUD_ORG_KEY');
  });

  it('gives the job duration, the rate limit, the population and every sample with its states', () => {
    const text = lines().join('\n');
    expect(text).toContain('search jobs complete 2500 ms after creation; rate limit 60 requests per 60 s');
    expect(text).toContain('population: 42 generated binaries (built in 7 ms)');
    for (const [key, fixture] of CLOUD_FIXTURE_LIST) {
      const line = lines().find((l) => l.includes(`[${key}]`));
      expect(line).toContain(fixture.sha256);
      expect(line).toContain(fixture.md5);
      expect(line).toContain(fixture.name);
    }
    expect(text).toContain(`${unseenFixture.sha256}  ${unseenFixture.md5}  (no rows: never seen)  [unseen]`);
    expect(text).toContain('[] ');
  });

  it('prints curl commands for this simulator: the create path, the header, the lookup fields, a long enough sleep', () => {
    const text = lines().join('\n');
    expect(text).toContain(`'http://127.0.0.1:9999${JOBS_PATH}'`);
    expect(text).toContain(`-H 'X-Auth-Token: ${TOKEN}'`);
    expect(text).toContain(JSON.stringify(LOOKUP_FIELDS));
    expect(text).toContain(`sleep 3; curl -s -H 'X-Auth-Token: ${TOKEN}' "http://127.0.0.1:9999${JOBS_PATH}/$JOB/results?start=0&rows=10"`);
    expect(lines().at(-1)).toMatch(/^ {2}admin: GET\|PUT\|DELETE http:\/\/127\.0\.0\.1:9999\/__simulator\/faults/);
  });
});
