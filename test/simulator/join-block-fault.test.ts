import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { DEFAULT_FAULTS, FaultState } from '../../src/simulator/faults.js';
import { samples } from '../../src/simulator/fixtures.js';
import { readSimulatorEnvironment, SimulatorEnvironmentError } from '../../src/simulator/environment.js';
import { binarySearch, search, seedQuery, simulator, summary, TOKEN } from './helpers.js';

/**
 * blockJoins: a process search that reads any binary (digsig_*) field is
 * refused, the way a server with ForceBlockCoreJoinsInSearchTo blocks binary
 * joins; binary endpoints and plain process searches keep working.
 */

const { md5 } = samples.signed;
const seed = seedQuery(md5, samples.signed.name);

let app: SimulatorInstance;
beforeEach(async () => {
  app = await simulator();
});
afterEach(async () => {
  await app.close();
});

function expectBlocked(response: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, q: string): void {
  expect(response.statusCode, q).toBe(400);
  expect(response.headers['content-type'], q).toBe('application/json; charset=utf-8');
  expect(response.json(), q).toEqual({ reason: 'join_blocked' });
  expect(response.headers['x-simulator-detail'], q).toMatch(/join/);
}

describe('the blockJoins setting', () => {
  it('is off by default and part of every decision', () => {
    expect(DEFAULT_FAULTS.blockJoins).toBe(false);
    const state = new FaultState();
    expect(state.decide().blockJoins).toBe(false);
    state.set({ blockJoins: true });
    expect(state.decide()).toMatchObject({ kind: 'none', blockJoins: true });
    expect(() => state.set({ blockJoins: 'yes' as never })).toThrow();
    expect(state.clear().blockJoins).toBe(false);
  });

  it('is set over HTTP, validated, and cleared by DELETE', async () => {
    const put = (payload: object) => app.inject({ method: 'PUT', url: '/__simulator/faults', headers: { 'x-auth-token': TOKEN }, payload });
    expect((await put({ blockJoins: 1 })).statusCode).toBe(400);
    expect((await put({ blockJoins: true })).json()).toMatchObject({ blockJoins: true });
    expectBlocked(await search(app, { q: seed }), seed);
    await app.inject({ method: 'DELETE', url: '/__simulator/faults', headers: { 'x-auth-token': TOKEN } });
    expect((await search(app, { q: seed })).statusCode).toBe(200);
  });

  it('comes from SIMULATOR_FAULT_BLOCK_JOINS', () => {
    for (const value of ['true', 'TRUE', '1', 'yes', 'on']) {
      expect(readSimulatorEnvironment({ SIMULATOR_FAULT_BLOCK_JOINS: value }).faults, value).toEqual({ blockJoins: true });
    }
    for (const value of ['false', '0', 'no', 'off']) {
      expect(readSimulatorEnvironment({ SIMULATOR_FAULT_BLOCK_JOINS: value }).faults, value).toEqual({ blockJoins: false });
    }
    expect(readSimulatorEnvironment({ SIMULATOR_FAULT_BLOCK_JOINS: '' }).faults).toEqual({});
    expect(() => readSimulatorEnvironment({ SIMULATOR_FAULT_BLOCK_JOINS: 'maybe' })).toThrow(SimulatorEnvironmentError);
  });

  it('takes its initial value from the options', async () => {
    await app.close();
    app = await simulator({ faults: { blockJoins: true } });
    expectBlocked(await search(app, { q: seed }), seed);
  });
});

describe('under blockJoins', () => {
  beforeEach(() => {
    app.simulator.setFaults({ blockJoins: true });
  });

  it('refuses every process search that uses a digsig_* field, wherever it sits in the query', async () => {
    for (const q of [
      seed,
      `process_md5:${md5} digsig_result:Signed`,
      `process_md5:${md5} -digsig_result:Signed`,
      `process_md5:${md5} NOT digsig_publisher:apple`,
      `process_name:git OR (hostname:host001 digsig_issuer:"Apple Code Signing Certification Authority")`,
      'digsig_subject:*',
      'digsig_sign_time:2017*',
    ]) {
      expectBlocked(await search(app, { q }), q);
    }
    const posted = await app.inject({
      method: 'POST',
      url: '/api/v1/process',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: [seed], rows: 1 },
    });
    expectBlocked(posted, 'POST');
  });

  it('still answers process searches without a binary field', async () => {
    for (const q of [`process_md5:${md5}`, 'process_name:git', `md5:${md5} hostname:host001`, '']) {
      const response = await search(app, { q, rows: 1 });
      expect(response.statusCode, q).toBe(200);
      expect(response.json().total_results, q).toBeGreaterThan(0);
    }
  });

  it('still answers binary summaries and binary searches, digsig_* terms included', async () => {
    const record = await summary(app, md5);
    expect(record.statusCode).toBe(200);
    expect(record.json()).toMatchObject({ digsig_result: 'Signed', digsig_prog_name: 'git' });
    const found = await binarySearch(app, { q: `md5:${md5} digsig_prog_name:git digsig_result:Signed` });
    expect(found.statusCode).toBe(200);
    expect(found.json().total_results).toBe(1);
  });

  it('answers a syntax error as a syntax error, and a bad rows as malformed', async () => {
    const broken = await search(app, { q: 'digsig_prog_name:git AND' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toEqual({ reason: 'query_syntax_error' });
    const rows = await search(app, { q: seed, rows: 'ten' });
    expect(rows.json()).toEqual({ reason: 'query_malformed_syntax' });
  });

  it('lets the random faults and failNext go first, and counts blocked searches', async () => {
    app.simulator.setFaults({ failNext: 1, errorStatus: 503 });
    expect((await search(app, { q: seed })).statusCode).toBe(503);
    expectBlocked(await search(app, { q: seed }), seed);
    expect(app.simulator.stats.processSearches).toBe(2);
    expect(app.simulator.stats.queries).toEqual([seed, seed]);
  });

  it('is not altered by malformed or slow-body faults (they only touch 200s)', async () => {
    app.simulator.setFaults({ malformedRate: 1, slowBodyMs: 30 });
    expectBlocked(await search(app, { q: seed }), seed);
  });
});
