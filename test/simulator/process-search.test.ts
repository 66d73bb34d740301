import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { search, searchJson, seedQuery, simulator, TOKEN } from './helpers.js';

const SEED_ROW_KEYS = [
  'childproc_count',
  'cmdline',
  'comms_ip',
  'crossproc_count',
  'current_segment',
  'emet_config',
  'emet_count',
  'filemod_count',
  'filtering_known_dlls',
  'group',
  'host_type',
  'hostname',
  'id',
  'interface_ip',
  'last_update',
  'modload_count',
  'netconn_count',
  'os_type',
  'parent_md5',
  'parent_name',
  'parent_pid',
  'parent_unique_id',
  'path',
  'process_md5',
  'process_name',
  'process_pid',
  'processblock_count',
  'regmod_count',
  'segment_id',
  'sensor_id',
  'start',
  'terminated',
  'unique_id',
  'username',
];

let app: SimulatorInstance;
beforeAll(async () => {
  app = await simulator();
});
afterAll(async () => {
  await app.close();
});

describe('the seed lookup', () => {
  it('finds the signed git binary with the seed query, exactly as the blog post shows it', async () => {
    const response = await app.inject({
      method: 'GET',
      // The blog post's own encoding: %3A for the colon, %20 for the space, an empty sort.
      url: `/api/v1/process?q=process_md5%3A${samples.signed.md5}%20digsig_prog_name%3Agit&rows=1&start=0&sort=`,
      headers: { 'x-auth-token': TOKEN },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'terms',
        'results',
        'elapsed',
        'total_results',
        'highlights',
        'facets',
        'tagged_pids',
        'start',
        'filtered',
        'comprehensive_search',
        'all_segments',
        'incomplete_results',
      ].sort(),
    );
    expect(body.results).toHaveLength(1);
    const row = body.results[0];
    expect(Object.keys(row).sort()).toEqual([...SEED_ROW_KEYS].sort());
    expect(row).toMatchObject({
      process_md5: '82a7bf2b1f51f1988be571b8176aa545',
      process_name: 'git',
      id: '-8377683872379532238',
      parent_md5: '000000000000000000000000000000',
      process_pid: -1,
      terminated: true,
    });
    expect(Object.keys(row).some((key) => key.startsWith('digsig'))).toBe(false);
    // git ran twice; the page holds one row but the count is every match.
    expect(body.total_results).toBe(2);
    expect(body.terms).toEqual([`process_md5:${samples.signed.md5}`, 'digsig_prog_name:git']);
    expect(body).toMatchObject({ start: 0, highlights: [], facets: {}, tagged_pids: {}, filtered: {}, incomplete_results: false });
    expect(typeof body.elapsed).toBe('number');
  });

  it('treats + and %20 alike as spaces', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/process?q=process_md5:${samples.signed.md5}+digsig_prog_name:git&rows=1`,
      headers: { 'x-auth-token': TOKEN },
    });
    expect(response.json().total_results).toBe(2);
  });

  it('returns results: [] and total_results: 0 for an unsigned binary', async () => {
    const body = await searchJson(app, { q: seedQuery(samples.unsigned.md5, samples.unsigned.name), rows: 1 });
    expect(body.results).toEqual([]);
    expect(body.total_results).toBe(0);
  });

  it('finds the unsigned binary itself by md5 (it exists, it is just not signed)', async () => {
    const body = await searchJson(app, { q: `process_md5:${samples.unsigned.md5}` });
    expect(body.total_results).toBe(1);
    expect(await searchJson(app, { q: `process_md5:${samples.unsigned.md5} digsig_result:Unsigned` })).toMatchObject({ total_results: 1 });
  });

  it('matches the md5 case-insensitively and returns it lowercase', async () => {
    const body = await searchJson(app, { q: `process_md5:${samples.signed.md5.toUpperCase()} digsig_prog_name:git` });
    expect(body.results[0]?.process_md5).toBe(samples.signed.md5);
  });

  it('finds no row for chrome.exe, signed as "Google Chrome", by its file name', async () => {
    const { md5 } = samples.nameDiffers;
    for (const q of [`process_md5:${md5} digsig_prog_name:chrome.exe`, `process_md5:${md5} digsig_prog_name:"chrome.exe"`]) {
      expect((await searchJson(app, { q })).total_results, q).toBe(0);
    }
    for (const q of [
      `process_md5:${md5} digsig_prog_name:chrome`,
      `process_md5:${md5} digsig_prog_name:"Google Chrome"`,
      `process_md5:${md5} digsig_prog_name:google`,
      `process_md5:${md5} digsig_result:Signed`,
      `process_md5:${md5} digsig_prog_name:Goog*`,
    ]) {
      expect((await searchJson(app, { q })).total_results, q).toBe(2);
    }
    // Tokens must appear consecutively and in order.
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_prog_name:"Chrome Google"` })).total_results).toBe(0);
  });

  it('answers every sample the way its joinFindsRow says', async () => {
    for (const sample of Object.values(samples)) {
      const body = await searchJson(app, { q: seedQuery(sample.md5, sample.name), rows: 1 });
      expect(body.results.length, sample.name).toBe(sample.joinFindsRow ? 1 : 0);
      const bySignedResult = await searchJson(app, { q: `process_md5:${sample.md5} digsig_result:Signed`, rows: 0 });
      expect(bySignedResult.total_results > 0, sample.name).toBe(sample.signed);
    }
  });

  it('matches digsig_result with a quoted multi-word value', async () => {
    const { md5 } = samples.badSignature;
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_result:"bad signature"` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_result:Bad\\ Signature` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_result:Signed` })).total_results).toBe(0);
  });
});

describe('phrases and escapes', () => {
  it('finds a name with a space only when it is quoted or escaped', async () => {
    const { md5 } = samples.codeHelper;
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_prog_name:"Code Helper"` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_prog_name:Code\\ Helper` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} process_name:"code helper"` })).total_results).toBe(1);
    const unquoted = await search(app, { q: `process_md5:${md5} digsig_prog_name:Code Helper` });
    expect(unquoted.statusCode).toBe(400);
    expect(unquoted.json()).toEqual({ reason: 'query_syntax_error' });
  });

  it('takes quotes, backslashes, OR, *, parentheses and colons inside a phrase as one value', async () => {
    const { md5, name } = samples.tricky;
    const body = await searchJson(app, { q: seedQuery(md5, name), rows: 1 });
    expect(body.results).toHaveLength(1);
    expect(body.results[0]?.process_name).toBe(name);
    expect(body.terms).toEqual([`process_md5:${md5}`, `digsig_prog_name:"Tricky \\"Tool\\" (x86) OR c:\\\\bin\\\\*: v2"`]);
    // process_name is a keyword: the exact phrase matches, a partial one does not.
    expect((await searchJson(app, { q: `process_name:"${name.replace(/["\\]/g, (c) => `\\${c}`)}"` })).total_results).toBe(1);
    expect((await searchJson(app, { q: 'process_name:"Tricky"' })).total_results).toBe(0);
  });

  it('rejects the same name pasted in without quoting', async () => {
    const { md5, name } = samples.tricky;
    const response = await search(app, { q: `process_md5:${md5} digsig_prog_name:${name}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ reason: 'query_syntax_error' });
    expect(response.headers['x-simulator-detail']).toBeTypeOf('string');
  });
});

describe('other query features', () => {
  it('supports OR, negation and parentheses', async () => {
    const both = `process_md5:${samples.signed.md5} OR process_md5:${samples.python.md5}`;
    expect((await searchJson(app, { q: both })).total_results).toBe(3);
    expect((await searchJson(app, { q: `(${both}) -process_name:git` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `(${both}) NOT hostname:host003` })).total_results).toBe(2);
  });

  it('matches process_name exactly, case-insensitively, with wildcards', async () => {
    expect((await searchJson(app, { q: 'process_name:CHROME.EXE' })).total_results).toBe(2);
    expect((await searchJson(app, { q: 'process_name:chrome' })).total_results).toBe(0);
    expect((await searchJson(app, { q: 'process_name:chr*.exe' })).total_results).toBe(2);
    expect((await searchJson(app, { q: 'process_name:power*' })).total_results).toBe(1);
  });

  it('matches digsig_prog_name:* only for binaries with a signature', async () => {
    expect((await searchJson(app, { q: `process_md5:${samples.unsigned.md5} digsig_prog_name:*` })).total_results).toBe(0);
    expect((await searchJson(app, { q: `process_md5:${samples.python.md5} digsig_prog_name:*` })).total_results).toBe(1);
  });

  it('accepts the other joined digsig fields', async () => {
    const { md5 } = samples.powershell;
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_publisher:"Microsoft Windows"` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_issuer:"Production PCA"` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_subject:microsoft` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_sign_time:2019-03-19` })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_md5:${md5} digsig_sign_time:2020*` })).total_results).toBe(0);
  });

  it('rejects an unknown field and an empty value', async () => {
    for (const q of ['process_md5:', 'bogus_field:x', `process_md5:${samples.signed.md5} AND`, '(process_name:git']) {
      const response = await search(app, { q });
      expect(response.statusCode, q).toBe(400);
      expect(response.json()).toEqual({ reason: 'query_syntax_error' });
    }
  });

  it('returns everything for an empty or missing q', async () => {
    const all = await searchJson(app, { q: '', rows: 0 });
    const missing = await searchJson(app, { rows: 0 });
    expect(all.total_results).toBeGreaterThan(5);
    expect(missing.total_results).toBe(all.total_results);
    expect(all.terms).toEqual([]);
  });
});

describe('paging and sorting', () => {
  it('defaults to 10 rows from 0, newest first', async () => {
    const body = await searchJson(app, { q: '' });
    expect(body.results).toHaveLength(10);
    expect(body.start).toBe(0);
    const updates = body.results.map((r) => String(r.last_update));
    expect(updates).toEqual([...updates].sort().reverse());
  });

  it('counts only with rows=0', async () => {
    const body = await searchJson(app, { q: `process_md5:${samples.signed.md5}`, rows: 0 });
    expect(body.results).toEqual([]);
    expect(body.total_results).toBe(2);
  });

  it('pages with start and rows', async () => {
    const q = `process_md5:${samples.signed.md5}`;
    const first = await searchJson(app, { q, rows: 1, start: 0 });
    const second = await searchJson(app, { q, rows: 1, start: 1 });
    const past = await searchJson(app, { q, rows: 1, start: 5 });
    expect(first.results[0]?.hostname).toBe('host001');
    expect(second.results[0]?.hostname).toBe('host003');
    expect(second.start).toBe(1);
    expect(past.results).toEqual([]);
    expect(past.total_results).toBe(2);
  });

  it('sorts by a row field in either direction', async () => {
    const q = `process_md5:${samples.signed.md5}`;
    expect((await searchJson(app, { q, sort: 'last_update asc' })).results[0]?.hostname).toBe('host003');
    expect((await searchJson(app, { q, sort: 'hostname desc' })).results[0]?.hostname).toBe('host003');
    expect((await searchJson(app, { q, sort: 'hostname asc' })).results[0]?.hostname).toBe('host001');
  });

  it('rejects a bad rows, start or sort', async () => {
    const bad: Record<string, string | number>[] = [
      { rows: -1 },
      { rows: 'ten' },
      { start: '1.5' },
      { sort: 'bogus desc' },
      { sort: 'last_update sideways' },
    ];
    for (const params of bad) {
      const response = await search(app, { q: 'process_name:git', ...params });
      expect(response.statusCode, JSON.stringify(params)).toBe(400);
      expect(response.json()).toEqual({ reason: 'query_malformed_syntax' });
    }
  });

  it('accepts the extra parameters integrations send', async () => {
    const response = await app.inject({
      method: 'GET',
      url:
        `/api/v1/process?q=process_md5:${samples.signed.md5}&rows=1&start=0&sort=last_update%20desc` +
        '&cb.urlver=1&facet=false&facet.field=process_name&facet.field=hostname&cb.group=id' +
        '&cb.min_last_update=2017-06-23T00:00:00Z&cb.max_last_update=2017-06-24T00:00:00Z',
      headers: { 'x-auth-token': TOKEN },
    });
    expect(response.statusCode).toBe(200);
    // The time window keeps only the seed row (the other git row is from the 22nd).
    expect(response.json().total_results).toBe(1);
  });
});

describe('POST /api/v1/process', () => {
  it('takes a JSON body whose values may be lists', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/process',
      headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' },
      payload: { q: [`process_md5:${samples.signed.md5} digsig_prog_name:git`], rows: 1, start: 0, 'cb.urlver': ['1'] },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results).toHaveLength(1);
    expect(body.total_results).toBe(2);
  });

  it('takes plain values and string numbers', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/process',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: seedQuery(samples.unsigned.md5, samples.unsigned.name), rows: '1', facet: false },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ results: [], total_results: 0 });
  });

  it('answers a bad query in the body with query_syntax_error', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/process',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: ['git'] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ reason: 'query_syntax_error' });
  });
});
