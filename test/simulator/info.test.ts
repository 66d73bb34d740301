import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { populationEntry } from '../../src/simulator/population.js';
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

describe('GET /api/v1/binary/:md5/summary', () => {
  it('carries the signing data process rows never do', async () => {
    const body = (await get(`/api/v1/binary/${samples.nameDiffers.md5.toUpperCase()}/summary`)).json();
    expect(body).toMatchObject({
      md5: samples.nameDiffers.md5.toUpperCase(),
      digsig_result: 'Signed',
      signed: 'Signed',
      digsig_prog_name: 'Google Chrome',
      digsig_result_code: '0',
      host_count: 2,
    });
  });

  it('describes an unsigned population entry', async () => {
    const entry = populationEntry(3);
    expect(entry.signed).toBe(false);
    const body = (await get(`/api/v1/binary/${entry.md5}/summary`)).json();
    expect(body).toMatchObject({
      digsig_result: 'Unsigned',
      digsig_prog_name: '',
      observed_filename: [expect.stringContaining(entry.name)],
    });
  });

  it('is 404 for a binary the server never saw', async () => {
    expect((await get('/api/v1/binary/00000000000000000000000000000000/summary')).statusCode).toBe(404);
  });
});
