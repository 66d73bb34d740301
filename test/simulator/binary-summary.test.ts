import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { fixtureBinaries, samples } from '../../src/simulator/fixtures.js';
import { populationEntry, populationMd5, unseenMd5 } from '../../src/simulator/population.js';
import { get, simulator, summary } from './helpers.js';

const OPTIONAL_DIGSIG_KEYS = ['digsig_publisher', 'digsig_issuer', 'digsig_subject', 'digsig_prog_name', 'digsig_sign_time'] as const;
const SIGNING_KEY_OF = {
  digsig_publisher: 'publisher',
  digsig_issuer: 'issuer',
  digsig_subject: 'subject',
  digsig_prog_name: 'progName',
  digsig_sign_time: 'signTime',
} as const;

let app: SimulatorInstance;
beforeAll(async () => {
  app = await simulator({ population: 2000 });
});
afterAll(async () => {
  await app.close();
});

async function record(md5: string): Promise<Record<string, unknown>> {
  const response = await summary(app, md5);
  expect(response.statusCode, md5).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return response.json<Record<string, unknown>>();
}

function expectNotFoundPage(response: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
  expect(response.statusCode).toBe(404);
  expect(String(response.headers['content-type'])).toMatch(/^text\/html/);
  expect(response.body).toContain('<title>404 Not Found</title>');
  expect(response.body).toContain('The requested URL was not found on the server.');
}

describe('GET /api/v1/binary/<md5>/summary', () => {
  it('shows a signed binary with every signing key, md5 upper case, signed repeating digsig_result', async () => {
    const body = await record(samples.nameDiffers.md5);
    expect(body).toMatchObject({
      md5: samples.nameDiffers.md5.toUpperCase(),
      digsig_result: 'Signed',
      signed: 'Signed',
      digsig_result_code: '0',
      digsig_prog_name: 'Google Chrome',
      digsig_publisher: 'Google LLC',
      digsig_issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
      digsig_subject: 'Google LLC',
      digsig_sign_time: '2019-05-02T18:11:40Z',
      original_filename: 'chrome.exe',
      internal_name: 'chrome_exe',
      company_name: 'Google LLC',
      product_name: 'Google Chrome',
      file_version: '74.0.3729.131',
      file_desc: 'Google Chrome',
      observed_filename: ['c:\\program files (x86)\\google\\chrome\\application\\chrome.exe'],
      host_count: 2,
      os_type: 'Windows',
      is_executable_image: true,
      is_64bit: false,
      orig_mod_len: 1_684_808,
      copied_mod_len: 1_684_808,
      group: ['Default Group'],
      endpoint: ['host002|31', 'host004|31'],
      watchlists: [],
    });
    expect(body.md5).not.toBe(samples.nameDiffers.md5);
    expect(body.server_added_timestamp).toBe('2019-05-09T08:03:51.907Z');
    expect(body.timestamp).toBe(body.server_added_timestamp);
    expect(body.last_seen).toBe('2019-05-10T16:40:02.311Z');
    expect(typeof body.cb_version).toBe('number');
    expect(typeof body.facet_id).toBe('number');
  });

  it('leaves every optional signing key out of an unsigned record, and the version keys of a file without them', async () => {
    const body = await record(samples.unsigned.md5);
    expect(body).toMatchObject({
      md5: samples.unsigned.md5.toUpperCase(),
      digsig_result: 'Unsigned',
      signed: 'Unsigned',
      digsig_result_code: '2148204800',
      file_desc: '(unknown)',
      os_type: 'OSX',
      observed_filename: ['/usr/local/bin/nc'],
      host_count: 1,
    });
    for (const key of OPTIONAL_DIGSIG_KEYS) expect(body, key).not.toHaveProperty(key);
    for (const key of ['original_filename', 'internal_name', 'company_name', 'product_name', 'file_version']) {
      expect(body, key).not.toHaveProperty(key);
    }
  });

  it('shows the Microsoft driver with a publisher and a sign time only, as recorded from a real server', async () => {
    const body = await record(samples.microsoftDriver.md5);
    expect(body).toMatchObject({
      md5: 'C7F5CAE0B450BE875EEE0E6DDFA771FE',
      original_filename: 'appid.sys',
      digsig_result: 'Signed',
      signed: 'Signed',
      digsig_result_code: '0',
      digsig_publisher: 'Microsoft Corporation',
      digsig_sign_time: '2016-04-12T09:21:00Z',
      company_name: 'Microsoft Corporation',
      product_name: 'Microsoft\u00ae Windows\u00ae Operating System',
      observed_filename: ['c:\\windows\\system32\\drivers\\appid.sys'],
      host_count: 1,
      os_type: 'Windows',
      is_executable_image: true,
    });
    expect(
      Object.keys(body)
        .filter((key) => key.startsWith('digsig_'))
        .sort(),
    ).toEqual(['digsig_publisher', 'digsig_result', 'digsig_result_code', 'digsig_sign_time'].sort());
  });

  it('has a signing key exactly when the fixture signature has that field, and never a null or empty value', async () => {
    for (const binary of fixtureBinaries) {
      const body = await record(binary.md5);
      expect(body.digsig_result, binary.md5).toBe(binary.signing.result);
      expect(body.signed, binary.md5).toBe(binary.signing.result);
      expect(typeof body.digsig_result_code, binary.md5).toBe('string');
      for (const key of OPTIONAL_DIGSIG_KEYS) {
        const expected = binary.signing[SIGNING_KEY_OF[key]];
        if (expected === undefined) expect(body, `${binary.md5} ${key}`).not.toHaveProperty(key);
        else expect(body[key], `${binary.md5} ${key}`).toBe(expected);
      }
      for (const [key, value] of Object.entries(body)) {
        expect(value, `${binary.md5} ${key}`).not.toBeNull();
        expect(value, `${binary.md5} ${key}`).not.toBe('');
      }
      expect(Array.isArray(body.observed_filename) && body.observed_filename.length > 0, binary.md5).toBe(true);
    }
  });

  it('gives each digsig_result its own Windows result code, as a string', async () => {
    const codes = new Map<unknown, unknown>();
    for (const binary of fixtureBinaries) {
      const body = await record(binary.md5);
      expect(body.digsig_result_code).toMatch(/^\d+$/);
      codes.set(body.digsig_result, body.digsig_result_code);
    }
    expect(codes.get('Signed')).toBe('0');
    expect(new Set(codes.values()).size).toBe(codes.size);
  });

  it('takes the md5 in any case', async () => {
    const { md5 } = samples.signed;
    const mixed = [...md5].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
    const bodies = await Promise.all([md5, md5.toUpperCase(), mixed].map(record));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(bodies[0]?.md5).toBe(md5.toUpperCase());
  });

  it('describes population entries as populationEntry says', async () => {
    const firstUnsigned = Array.from({ length: 2000 }, (_, i) => i).find((i) => populationEntry(i).digsigResult === 'Unsigned');
    expect(firstUnsigned).toBeDefined();
    for (const i of [0, 1, 2, 3, firstUnsigned as number, 1999]) {
      const entry = populationEntry(i);
      const body = await record(entry.md5.toUpperCase());
      expect(body, entry.name).toMatchObject({
        md5: entry.md5.toUpperCase(),
        digsig_result: entry.digsigResult,
        signed: entry.digsigResult,
        observed_filename: [expect.stringContaining(entry.name)],
      });
      if (entry.programName === undefined) expect(body).not.toHaveProperty('digsig_prog_name');
      else expect(body.digsig_prog_name).toBe(entry.programName);
      if (entry.digsigResult === 'Unsigned') for (const key of OPTIONAL_DIGSIG_KEYS) expect(body).not.toHaveProperty(key);
    }
  });

  it('answers 404 with the HTML page for an md5 the server never saw', async () => {
    for (const md5 of [samples.unseen.md5, samples.unseen.md5.toUpperCase(), unseenMd5(5), populationMd5(2000), '0'.repeat(32)]) {
      expectNotFoundPage(await summary(app, md5));
    }
  });

  it('answers 404 with the HTML page for anything that is not 32 hex digits', async () => {
    const { md5 } = samples.signed;
    for (const bad of ['nothex', md5.slice(1), `${md5}0`, `${md5.slice(0, 31)}g`, '%20' + md5.slice(3)]) {
      expectNotFoundPage(await summary(app, bad));
    }
  });
});

describe('GET /api/v1/binary/<md5> (the file)', () => {
  it('is 404 for every md5: records outlive files, and the simulator keeps none', async () => {
    for (const md5 of [samples.signed.md5, samples.microsoftDriver.md5.toUpperCase(), samples.unseen.md5]) {
      expectNotFoundPage(await get(app, `/api/v1/binary/${md5}`));
    }
    // The record is still there.
    expect((await summary(app, samples.signed.md5)).statusCode).toBe(200);
  });
});

describe('unknown paths', () => {
  it('get the same HTML 404 page, not a JSON one', async () => {
    expectNotFoundPage(await get(app, '/api/v1/nothing-here'));
  });
});
