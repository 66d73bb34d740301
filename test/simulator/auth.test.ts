import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { tokenMatches } from '../../src/simulator/auth.js';
import { simulator, TOKEN } from './helpers.js';

let app: SimulatorInstance;
beforeAll(async () => {
  app = await simulator();
});
afterAll(async () => {
  await app.close();
});

const PATHS = [
  ['GET', '/api/v1/process?q=process_name:git'],
  ['POST', '/api/v1/process'],
  ['GET', '/api/info'],
  ['GET', '/api/v1/storage/events/partition'],
  ['GET', '/__simulator/faults'],
  ['PUT', '/__simulator/faults'],
  ['GET', '/__simulator/stats'],
] as const;

describe('X-Auth-Token', () => {
  it.each(PATHS)('%s %s without a token is 401 with an HTML page', async (method, url) => {
    const response = await app.inject({ method, url, ...(method === 'GET' ? {} : { payload: {} }) });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('401 Unauthorized');
  });

  it('rejects a wrong token, a token with extra characters and a prefix of the token', async () => {
    for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1), '']) {
      const response = await app.inject({ method: 'GET', url: '/api/info', headers: { 'x-auth-token': token } });
      expect(response.statusCode, token).toBe(401);
    }
  });

  it('does not accept the token in another header', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/info', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode).toBe(401);
  });

  it('lets the right token through', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/info', headers: { 'x-auth-token': TOKEN } });
    expect(response.statusCode).toBe(200);
  });

  it('does not count a refused search as a process search', async () => {
    app.simulator.resetStats();
    await app.inject({ method: 'GET', url: '/api/v1/process?q=process_name:git' });
    expect(app.simulator.stats.processSearches).toBe(0);
    expect(app.simulator.stats.inFlight).toBe(0);
  });
});

describe('tokenMatches', () => {
  it('compares exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', undefined)).toBe(false);
    expect(tokenMatches('abc', ['abc'])).toBe(false);
  });
});
