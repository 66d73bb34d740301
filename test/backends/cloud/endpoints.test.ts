import { describe, expect, it } from 'vitest';
import { cloudEndpoints } from '../../../src/backends/cloud/endpoints.js';

const JOB = '2c5e8a1f-3b7d-4e90-a6c4-81f2d9b07e35';

describe('cloudEndpoints', () => {
  it.each([
    ['https://defense.conferdeploy.net', 'https://defense.conferdeploy.net'],
    ['https://defense.conferdeploy.net/', 'https://defense.conferdeploy.net'],
    ['https://defense.conferdeploy.net//', 'https://defense.conferdeploy.net'],
    ['https://proxy.test:8443/cbc/', 'https://proxy.test:8443/cbc'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:8080/', 'http://localhost:8080'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
  ])('builds every URL under %s', (baseUrl, base) => {
    const endpoints = cloudEndpoints(baseUrl, 'WNEXFKQ7');
    const jobs = `${base}/api/investigate/v2/orgs/WNEXFKQ7/processes/search_jobs`;
    expect(endpoints.searchJobs).toBe(jobs);
    expect(endpoints.jobResults(JOB, 0, 500)).toBe(`${jobs}/${JOB}/results?start=0&rows=500`);
    expect(endpoints.jobResults(JOB, 1500, 250)).toBe(`${jobs}/${JOB}/results?start=1500&rows=250`);
  });

  it('names the host and port, never the path', () => {
    expect(cloudEndpoints('https://defense.conferdeploy.net/x', 'ORG').host).toBe('defense.conferdeploy.net');
    expect(cloudEndpoints('https://proxy.test:8443/cbc', 'ORG').host).toBe('proxy.test:8443');
  });

  it('percent-encodes the org key into its one path segment', () => {
    const endpoints = cloudEndpoints('https://cbc.test', 'ORG/../x?y#z%20');
    expect(endpoints.searchJobs).toBe('https://cbc.test/api/investigate/v2/orgs/ORG%2F..%2Fx%3Fy%23z%2520/processes/search_jobs');
    expect(new URL(endpoints.searchJobs).pathname).toBe('/api/investigate/v2/orgs/ORG%2F..%2Fx%3Fy%23z%2520/processes/search_jobs');
  });

  it('percent-encodes the job id', () => {
    const endpoints = cloudEndpoints('https://cbc.test', 'ORG');
    expect(endpoints.jobResults('a:b.c', 0, 1)).toBe(
      'https://cbc.test/api/investigate/v2/orgs/ORG/processes/search_jobs/a%3Ab.c/results?start=0&rows=1',
    );
  });

  it.each([
    ['empty', ''],
    ['a dot segment', '.'],
    ['a parent segment', '..'],
    ['starting with a slash', '/ORG'],
    ['a space', 'ORG KEY'],
    ['a newline', 'ORG\n'],
    ['non-ASCII', 'ORGé'],
    ['too long', 'A'.repeat(65)],
  ])('refuses an org key that is %s, without echoing it', (_label, orgKey) => {
    let error: unknown;
    try {
      cloudEndpoints('https://cbc.test', orgKey);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TypeError);
    if (orgKey.length > 2) expect((error as Error).message).not.toContain(orgKey);
  });

  it('accepts a 64-character org key of printable characters', () => {
    expect(() => cloudEndpoints('https://cbc.test', `A${'~!-_.'.repeat(12)}xyz`)).not.toThrow();
  });

  it.each([
    ['not a URL', 'defense.conferdeploy.net'],
    ['another scheme', 'ftp://cbc.test'],
    ['http to a remote host', 'http://defense.conferdeploy.net'],
    ['http to a host that only starts like loopback', 'http://127.0.0.1.evil.test'],
    ['credentials', 'https://admin:pw@cbc.test'],
    ['a query string', 'https://cbc.test/?x=1'],
    ['a fragment', 'https://cbc.test/#x'],
  ])('refuses a base URL with %s, without echoing it', (_label, baseUrl) => {
    let error: unknown;
    try {
      cloudEndpoints(baseUrl, 'ORG');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain(baseUrl);
  });
});
