import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { fixtureBinaries, samples } from '../../src/simulator/fixtures.js';
import { MAX_POPULATION, populationEntry, populationMd5, unseenMd5 } from '../../src/simulator/population.js';
import { binarySearch, binarySearchJson, simulator, summary, TOKEN, type BinaryEnvelope } from './helpers.js';

const POPULATION = 2000;

let app: SimulatorInstance;
beforeAll(async () => {
  app = await simulator({ population: POPULATION });
});
afterAll(async () => {
  await app.close();
});

const md5s = (body: BinaryEnvelope): string[] => body.results.map((r) => String(r.md5));

/** How many fixture binaries and population entries have this digsig_result. */
function countWithResult(result: string): number {
  let n = fixtureBinaries.filter((b) => b.signing.result === result).length;
  for (let i = 0; i < POPULATION; i += 1) if (populationEntry(i).digsigResult === result) n += 1;
  return n;
}

describe('GET /api/v1/binary: the envelope', () => {
  it('has exactly the binary-search keys, and rows shaped like /summary', async () => {
    const response = await binarySearch(app, { q: `md5:${samples.nameDiffers.md5}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = response.json<BinaryEnvelope>();
    expect(Object.keys(body).sort()).toEqual(['elapsed', 'facets', 'highlights', 'results', 'start', 'terms', 'total_results']);
    expect(body).toMatchObject({ terms: [`md5:${samples.nameDiffers.md5}`], total_results: 1, highlights: [], facets: {}, start: 0 });
    expect(body.elapsed).toBeGreaterThan(0);
    expect(body.elapsed).toBeLessThan(1);
    expect(body.results).toEqual([(await summary(app, samples.nameDiffers.md5)).json()]);
  });

  it('needs the token like everything else (401 HTML)', async () => {
    const before = app.simulator.stats.binarySearches;
    const response = await app.inject({ method: 'GET', url: `/api/v1/binary?q=md5:${samples.signed.md5}` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(app.simulator.stats.binarySearches).toBe(before);
  });
});

describe('md5 terms', () => {
  it('match exactly and case-insensitively; the record shows the md5 upper case', async () => {
    const { md5 } = samples.signed;
    for (const q of [`md5:${md5}`, `md5:${md5.toUpperCase()}`, `md5:"${md5}"`]) {
      const body = await binarySearchJson(app, { q });
      expect(md5s(body), q).toEqual([md5.toUpperCase()]);
    }
    expect((await binarySearchJson(app, { q: `md5:${md5.slice(0, 31)}` })).total_results).toBe(0);
    expect((await binarySearchJson(app, { q: `md5:${samples.unseen.md5}` })).total_results).toBe(0);
  });

  it('answers an OR of many md5s with one record per known md5, leaving unknown ones out', async () => {
    const known = Array.from({ length: 150 }, (_, k) => populationMd5(k * 13));
    const unknown = [samples.unseen.md5, unseenMd5(7), populationMd5(POPULATION + 5)];
    const fixtures = [samples.microsoftDriver.md5, samples.unsigned.md5];
    const terms = [...known, ...unknown, ...fixtures].map((m, k) => `md5:${k % 2 === 0 ? m.toUpperCase() : m}`);
    const body = await binarySearchJson(app, { q: terms.join(' OR '), rows: 1000 });
    expect(body.total_results).toBe(known.length + fixtures.length);
    expect(new Set(md5s(body))).toEqual(new Set([...known, ...fixtures].map((m) => m.toUpperCase())));
    expect(body.terms).toHaveLength(terms.length);
  });

  it('counts a repeated md5 once', async () => {
    const { md5 } = samples.python;
    expect((await binarySearchJson(app, { q: `md5:${md5} OR md5:${md5.toUpperCase()}` })).total_results).toBe(1);
  });

  it('answers hundreds of OR-ed md5s from the index, without scanning a huge population', async () => {
    const huge = await simulator({ population: MAX_POPULATION });
    try {
      const indexes = Array.from({ length: 400 }, (_, k) => k * 49_999);
      const q = indexes.map((i) => `md5:${populationMd5(i).toUpperCase()}`).join(' OR ');
      const started = performance.now();
      const response = await huge.inject({
        method: 'POST',
        url: '/api/v1/binary',
        headers: { 'x-auth-token': TOKEN },
        payload: { q, rows: 1000 },
      });
      const ms = performance.now() - started;
      expect(response.statusCode).toBe(200);
      const body = response.json<BinaryEnvelope>();
      expect(body.total_results).toBe(400);
      expect(body.results.map((r) => r.digsig_result)).toEqual(
        expect.arrayContaining([...new Set(indexes.map((i) => populationEntry(i).digsigResult))]),
      );
      // A scan of 20 million binaries takes many seconds; the index answers in milliseconds.
      expect(ms).toBeLessThan(3000);
    } finally {
      await huge.close();
    }
  });
});

describe('digsig_* terms on the record itself', () => {
  it('match digsig_result exactly and case-insensitively, multi-word values quoted or escaped', async () => {
    const expected = countWithResult('Bad Signature');
    expect(expected).toBeGreaterThan(1);
    for (const q of ['digsig_result:"Bad Signature"', 'digsig_result:"bad signature"', 'digsig_result:Bad\\ Signature']) {
      const body = await binarySearchJson(app, { q, rows: 1000 });
      expect(body.total_results, q).toBe(expected);
      expect(new Set(body.results.map((r) => r.digsig_result)), q).toEqual(new Set(['Bad Signature']));
    }
    expect(md5s(await binarySearchJson(app, { q: 'digsig_result:"Bad Signature"', rows: 1000 }))).toContain(
      samples.badSignature.md5.toUpperCase(),
    );
    // Unquoted, the second word is a bare word: a syntax error.
    expect((await binarySearch(app, { q: 'digsig_result:Bad Signature' })).statusCode).toBe(400);
    // digsig_result is not tokenized: a partial value matches nothing.
    expect((await binarySearchJson(app, { q: 'digsig_result:Bad' })).total_results).toBe(0);
  });

  it('find every digsig_result value, (Unknown) included', async () => {
    for (const result of [
      'Signed',
      'Unsigned',
      'Expired',
      'Invalid Signature',
      'Invalid Chain',
      'Untrusted Root',
      'Explicit Distrust',
      '(Unknown)',
    ]) {
      const body = await binarySearchJson(app, { q: `digsig_result:"${result}"`, rows: 0 });
      expect(body.total_results, result).toBe(countWithResult(result));
      expect(body.total_results, result).toBeGreaterThan(0);
    }
  });

  it('tokenize the publisher, issuer, subject and program name', async () => {
    const only = async (q: string) => md5s(await binarySearchJson(app, { q: `(${q}) md5:${samples.renamed.md5}` }));
    const renamed = [samples.renamed.md5.toUpperCase()];
    expect(await only('digsig_prog_name:psexec')).toEqual(renamed);
    expect(await only('digsig_prog_name:"Sysinternals PsExec"')).toEqual(renamed);
    expect(await only('digsig_prog_name:"svchost.exe"')).toEqual([]);
    expect(await only('digsig_publisher:microsoft')).toEqual(renamed);
    expect(await only('digsig_issuer:"Code Signing PCA"')).toEqual(renamed);
    expect(await only('digsig_subject:"Microsoft Corporation"')).toEqual(renamed);
    expect(await only('digsig_sign_time:2021-04-20')).toEqual(renamed);
    expect(await only('digsig_sign_time:2020*')).toEqual([]);
  });

  it('support AND, OR, negation, parentheses and has-a-value', async () => {
    const fixturesOnly = await simulator();
    try {
      const q = (text: string) =>
        fixturesOnly.inject({
          method: 'GET',
          url: `/api/v1/binary?q=${encodeURIComponent(text)}&rows=100`,
          headers: { 'x-auth-token': TOKEN },
        });
      const found = async (text: string) => new Set(md5s((await q(text)).json<BinaryEnvelope>()));
      const up = (m: string) => m.toUpperCase();
      // Signed by Microsoft Corporation, with no program name: the driver only.
      expect(await found('digsig_publisher:"Microsoft Corporation" -digsig_prog_name:*')).toEqual(
        new Set([up(samples.microsoftDriver.md5)]),
      );
      expect(await found('digsig_publisher:"Microsoft Corporation" AND digsig_prog_name:*')).toEqual(
        new Set([up(samples.codeHelper.md5), up(samples.renamed.md5)]),
      );
      expect(await found(`(md5:${samples.signed.md5} OR md5:${samples.unsigned.md5}) digsig_result:Signed`)).toEqual(
        new Set([up(samples.signed.md5)]),
      );
      expect(await found(`md5:${samples.signed.md5} or md5:${samples.unsigned.md5}`)).toEqual(
        new Set([up(samples.signed.md5), up(samples.unsigned.md5)]),
      );
      expect(await found(`md5:${samples.signed.md5} NOT digsig_result:Signed`)).toEqual(new Set());
      // Every fixture with no signing data has neither publisher nor program name.
      const bare = fixtureBinaries.filter((b) => b.signing.publisher === undefined).map((b) => up(b.md5));
      expect(await found('-digsig_publisher:*')).toEqual(new Set(bare));
    } finally {
      await fixturesOnly.close();
    }
  });

  it('know a few record fields too', async () => {
    const driver = [samples.microsoftDriver.md5.toUpperCase()];
    expect(md5s(await binarySearchJson(app, { q: 'original_filename:appid.sys' }))).toEqual(driver);
    expect(md5s(await binarySearchJson(app, { q: 'original_filename:APPID.SYS' }))).toEqual(driver);
    expect(md5s(await binarySearchJson(app, { q: 'original_filename:psexec.c company_name:sysinternals' }))).toEqual([
      samples.renamed.md5.toUpperCase(),
    ]);
    expect((await binarySearchJson(app, { q: `md5:${samples.nameDiffers.md5} host_count:2` })).total_results).toBe(1);
    expect((await binarySearchJson(app, { q: `md5:${samples.nameDiffers.md5} host_count:1` })).total_results).toBe(0);
    expect((await binarySearchJson(app, { q: `md5:${samples.unsigned.md5} os_type:osx` })).total_results).toBe(1);
  });
});

describe('fields a binary search does not know', () => {
  it('rejects process-row fields and other syntax errors with query_syntax_error', async () => {
    for (const q of [
      'process_name:git',
      `process_md5:${samples.signed.md5}`,
      'hostname:host001',
      'username:user001',
      'cmdline:git',
      'parent_md5:0',
      `md5:${samples.signed.md5} process_name:git`,
      'git',
      'bogus:1',
      '(md5:abc',
      'md5:',
    ]) {
      const response = await binarySearch(app, { q });
      expect(response.statusCode, q).toBe(400);
      expect(response.json(), q).toEqual({ reason: 'query_syntax_error' });
      expect(response.headers['x-simulator-detail'], q).toBeTypeOf('string');
    }
  });

  it('while the process search still takes them', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/process?q=process_name:git', headers: { 'x-auth-token': TOKEN } });
    expect(response.statusCode).toBe(200);
  });
});

describe('paging', () => {
  it('defaults to 10 rows from 0, newest server_added_timestamp first', async () => {
    const body = await binarySearchJson(app, { q: '' });
    expect(body.total_results).toBe(POPULATION + fixtureBinaries.length);
    expect(body.results).toHaveLength(10);
    expect(body.start).toBe(0);
    expect(body.terms).toEqual([]);
    const added = body.results.map((r) => String(r.server_added_timestamp));
    expect(added).toEqual([...added].sort().reverse());
    expect((await binarySearchJson(app, {})).total_results).toBe(body.total_results);
  });

  it('counts only with rows=0', async () => {
    const body = await binarySearchJson(app, { q: 'digsig_result:Signed', rows: 0 });
    expect(body.results).toEqual([]);
    expect(body.total_results).toBe(countWithResult('Signed'));
  });

  it('pages with start and rows, without gaps or repeats', async () => {
    const q = 'digsig_result:Expired';
    const all = await binarySearchJson(app, { q, rows: 1000 });
    expect(all.total_results).toBeGreaterThan(25);
    const pages: string[] = [];
    for (let start = 0; start < all.total_results; start += 7) {
      const page = await binarySearchJson(app, { q, rows: 7, start });
      expect(page.start).toBe(start);
      expect(page.total_results).toBe(all.total_results);
      pages.push(...md5s(page));
    }
    expect(pages).toEqual(md5s(all));
    const past = await binarySearchJson(app, { q, rows: 5, start: all.total_results + 3 });
    expect(past.results).toEqual([]);
    expect(past.total_results).toBe(all.total_results);
  });

  it('caps rows at 1000', async () => {
    const body = await binarySearchJson(app, { q: '', rows: 5000 });
    expect(body.results).toHaveLength(1000);
    expect(body.total_results).toBe(POPULATION + fixtureBinaries.length);
  });

  it('sorts by md5 or last_seen when asked', async () => {
    const asc = md5s(await binarySearchJson(app, { q: '', rows: 20, sort: 'md5 asc' }));
    expect(asc).toEqual([...asc].sort());
    const seen = (await binarySearchJson(app, { q: '', rows: 20, sort: 'last_seen desc' })).results.map((r) => String(r.last_seen));
    expect(seen).toEqual([...seen].sort().reverse());
  });

  it('rejects a bad rows, start or sort with query_malformed_syntax', async () => {
    const bad: Record<string, string | number>[] = [
      { rows: -1 },
      { rows: 'ten' },
      { start: '1.5' },
      { start: -3 },
      { sort: 'last_update desc' },
      { sort: 'md5 sideways' },
    ];
    for (const params of bad) {
      const response = await binarySearch(app, { q: `md5:${samples.signed.md5}`, ...params });
      expect(response.statusCode, JSON.stringify(params)).toBe(400);
      expect(response.json()).toEqual({ reason: 'query_malformed_syntax' });
    }
  });
});

describe('POST /api/v1/binary', () => {
  it('takes a JSON body whose values may be lists', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/binary',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: [`md5:${samples.signed.md5} OR md5:${samples.unsigned.md5}`], rows: '1', start: 1, 'cb.urlver': ['1'] },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<BinaryEnvelope>();
    expect(body.total_results).toBe(2);
    expect(body.results).toHaveLength(1);
    expect(body.start).toBe(1);
  });

  it('answers a bad body with 400', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/binary',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: ['process_name:git'] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ reason: 'query_syntax_error' });
    const badRows = await app.inject({
      method: 'POST',
      url: '/api/v1/binary',
      headers: { 'x-auth-token': TOKEN },
      payload: { rows: { n: 1 } },
    });
    expect(badRows.statusCode).toBe(400);
    expect(badRows.json()).toEqual({ reason: 'query_malformed_syntax' });
  });
});
