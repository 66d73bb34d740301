import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { simulator, TOKEN } from './helpers.js';

let app: SimulatorInstance;
beforeAll(async () => {
  app = await simulator({ population: 100 });
});
afterAll(async () => {
  await app.close();
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-auth-token': TOKEN } });

describe('server facts', () => {
  it('GET /api/info gives the version and maxSearchResultRows', async () => {
    const response = await get('/api/info');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: '7.7.0', maxSearchResultRows: 1000 });
  });

  it('GET /api/v1/storage/events/partition gives a partition map', async () => {
    const body = (await get('/api/v1/storage/events/partition')).json<
      Record<string, { name: string; status: string; info: { isLegacy: boolean } }>
    >();
    expect(Object.keys(body).length).toBeGreaterThan(0);
    for (const [key, partition] of Object.entries(body)) {
      expect(partition.name).toBe(key);
      expect(partition.info.isLegacy).toBe(false);
      expect(typeof partition.status).toBe('string');
    }
  });
});
