import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures, unseenFixture } from '../../../src/simulator/cloud/fixtures.js';
import { cloudPopulationEntry } from '../../../src/simulator/cloud/population.js';
import { cloudSimulator, createJob, search } from './helpers.js';

/** Which rows a query finds, end to end through job creation and a results read. */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator({ population: 2000 });
});
afterAll(async () => {
  await app.close();
});

const hashesOf = (rows: Record<string, unknown>[]): Set<string> => new Set(rows.map((row) => row['process_sha256'] as string));

describe('process_hash terms', () => {
  it('match by md5 or sha256, in any case, every row of the binary', async () => {
    const { osBinary } = cloudFixtures;
    for (const hash of [osBinary.md5, osBinary.sha256, osBinary.md5.toUpperCase(), osBinary.sha256.toUpperCase()]) {
      const found = await search(app, `process_hash:${hash}`);
      expect(found.num_found).toBe(osBinary.rows);
      expect(found.results).toHaveLength(osBinary.rows);
      for (const row of found.results) expect(row['process_hash']).toEqual(expect.arrayContaining([osBinary.md5, osBinary.sha256]));
    }
  });

  it('an OR group finds every named binary once, whichever hash names it', async () => {
    const { signedVerified, invalid, unsignedRecorded } = cloudFixtures;
    const query = `process_hash:(${signedVerified.md5} OR ${signedVerified.sha256} OR ${invalid.sha256.toUpperCase()} OR ${unsignedRecorded.md5} OR ${unseenFixture.md5})`;
    const found = await search(app, query);
    expect(found.num_found).toBe(signedVerified.rows + invalid.rows + unsignedRecorded.rows);
    expect(hashesOf(found.results)).toEqual(new Set([signedVerified.sha256, invalid.sha256, unsignedRecorded.sha256]));
  });

  it('an unseen hash finds nothing', async () => {
    const found = await search(app, `process_hash:${unseenFixture.sha256}`);
    expect(found).toMatchObject({ results: [], num_found: 0, num_available: 0 });
  });

  it('finds population binaries by either hash, but only inside the population size', async () => {
    const entry = cloudPopulationEntry(1234);
    const found = await search(app, `process_hash:(${entry.md5} OR ${cloudPopulationEntry(2000).md5})`);
    expect(found.num_found).toBe(entry.rowCount);
    expect(hashesOf(found.results)).toEqual(new Set([entry.sha256]));
    expect((await search(app, `process_hash:${entry.sha256}`)).num_found).toBe(entry.rowCount);
  });
});

describe('process_name terms', () => {
  it('match the whole lower-case path or the file name, ignoring case', async () => {
    const { osBinary } = cloudFixtures;
    expect((await search(app, 'process_name:SVCHOST.EXE')).num_found).toBe(osBinary.rows);
    expect((await search(app, 'process_name:"C:\\\\Windows\\\\System32\\\\svchost.exe"')).num_found).toBe(osBinary.rows);
    expect((await search(app, 'process_name:c\\:\\\\windows\\\\system32\\\\svchost.exe')).num_found).toBe(osBinary.rows);
    expect((await search(app, 'process_name:"/usr/bin/bash"')).num_found).toBe(cloudFixtures.unsignedRecorded.rows);
    expect((await search(app, 'process_name:system32')).num_found).toBe(0);
  });

  it('an unescaped Windows path matches nothing, as on a Lucene server', async () => {
    expect((await search(app, 'process_name:"c:\\windows\\system32\\svchost.exe"')).num_found).toBe(0);
  });

  it('find population binaries by file name or full path', async () => {
    const entry = cloudPopulationEntry(77);
    expect((await search(app, 'process_name:cproc-77.exe')).num_found).toBe(entry.rowCount);
    const quoted = `process_name:"${entry.name.replace(/\\/g, '\\\\')}"`;
    expect((await search(app, quoted)).num_found).toBe(entry.rowCount);
    expect((await search(app, 'process_name:cproc-2000.exe')).num_found).toBe(0);
  });
});

describe('process_publisher_state terms and operators', () => {
  it('a state term finds the rows whose list contains it, fixture and population alike', async () => {
    // Of the fixtures, osBinary's and catalogSigned's rows carry OS.
    let expected = cloudFixtures.osBinary.rows + cloudFixtures.catalogSigned.rows;
    for (let i = 0; i < 2000; i += 1) {
      const entry = cloudPopulationEntry(i);
      if (entry.states.includes('FILE_SIGNATURE_STATE_OS')) expected += entry.rowCount;
    }
    const found = await search(app, 'process_publisher_state:FILE_SIGNATURE_STATE_OS', { page: '?rows=0' });
    expect(found.num_found).toBe(expected);
  });

  it('decides per row: the disagreeing binary has one SIGNED row and one NOT_SIGNED row', async () => {
    const { disagreeingRows } = cloudFixtures;
    const signed = await search(app, `process_hash:${disagreeingRows.md5} AND process_publisher_state:FILE_SIGNATURE_STATE_SIGNED`);
    expect(signed.num_found).toBe(1);
    expect(signed.results[0]).toMatchObject({ process_publisher: ['Example Corp'] });
    const unsigned = await search(app, `process_hash:${disagreeingRows.md5} AND NOT process_publisher_state:FILE_SIGNATURE_STATE_SIGNED`);
    expect(unsigned.num_found).toBe(1);
    expect(unsigned.results[0]).not.toHaveProperty('process_publisher');
    expect(unsigned.results[0]).toMatchObject({ process_publisher_state: ['FILE_SIGNATURE_STATE_NOT_SIGNED'] });
  });

  it('combines AND, OR, NOT and parentheses with the usual precedence', async () => {
    const { osBinary, catalogSigned, signedVerified } = cloudFixtures;
    const query =
      `process_hash:(${osBinary.md5} OR ${catalogSigned.md5} OR ${signedVerified.md5}) AND ` +
      'NOT process_publisher_state:FILE_SIGNATURE_STATE_SIGNED OR process_hash:' +
      signedVerified.sha256;
    // (the three AND NOT SIGNED) OR signedVerified: catalogSigned (no SIGNED) and signedVerified.
    const found = await search(app, query);
    expect(hashesOf(found.results)).toEqual(new Set([catalogSigned.sha256, signedVerified.sha256]));
    const grouped = await search(
      app,
      `process_hash:(${osBinary.md5} OR ${catalogSigned.md5}) AND (process_publisher_state:FILE_SIGNATURE_STATE_CATALOG_SIGNED OR process_publisher_state:FILE_SIGNATURE_STATE_TRUSTED)`,
    );
    expect(hashesOf(grouped.results)).toEqual(new Set([osBinary.sha256, catalogSigned.sha256]));
  });

  it('a NOT alone scans everything else', async () => {
    const all = await search(app, 'NOT process_hash:' + cloudFixtures.popular.md5, { page: '?rows=0' });
    let rows = 0;
    for (const fixture of Object.values(cloudFixtures)) rows += fixture.rows;
    for (let i = 0; i < 2000; i += 1) rows += cloudPopulationEntry(i).rowCount;
    expect(all.num_found).toBe(rows - cloudFixtures.popular.rows);
  });

  it('refuses a query outside the subset with 400 INVALID_QUERY naming the problem', async () => {
    const response = await createJob(app, { query: 'process_name:chrome.exe digsig_result:Signed' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error_code: 'INVALID_QUERY',
      message: expect.stringContaining('expected AND or OR between terms') as unknown,
      field: 'query',
    });
  });
});
