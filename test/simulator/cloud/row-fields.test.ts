import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { ALL_FIELDS, DEFAULT_FIELDS } from '../../../src/simulator/cloud/rows.js';
import { cloudSimulator, jobId, LOOKUP_FIELDS, ORG_KEY, resultsJson, search } from './helpers.js';

/** Which keys a row carries, as Cloud reads a job's `fields`, and what they hold. */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator({ population: 100 });
});
afterAll(async () => {
  await app.close();
});

const { osBinary, unsignedRecorded, popular } = cloudFixtures;
/** The first row of a job for `query`, with these fields (none: no `fields` key at all). */
const firstRow = async (query: string, fields?: string[]): Promise<Record<string, unknown>> => {
  const id = await jobId(app, fields === undefined ? { query } : { query, fields });
  return (await resultsJson(app, id, '?rows=1')).results[0] as Record<string, unknown>;
};

describe('fields', () => {
  it('without fields, a row has the recorded default set, which lacks sha256, publisher and states', async () => {
    const row = await firstRow(`process_hash:${osBinary.md5}`);
    expect(Object.keys(row)).toEqual([...DEFAULT_FIELDS]);
    for (const key of ['process_sha256', 'process_publisher', 'process_publisher_state']) expect(row).not.toHaveProperty(key);
    expect(row).toHaveProperty('process_hash');
    expect(row).toHaveProperty('process_name');
  });

  it('["*"] is the default set; "*" with names adds them', async () => {
    expect(Object.keys(await firstRow(`process_hash:${osBinary.md5}`, ['*']))).toEqual([...DEFAULT_FIELDS]);
    const row = await firstRow(`process_hash:${osBinary.md5}`, ['*', 'process_publisher_state', 'process_sha256']);
    expect(Object.keys(row).sort()).toEqual([...DEFAULT_FIELDS, 'process_publisher_state', 'process_sha256'].sort());
  });

  it('names without "*" give exactly those, keys in alphabetical order', async () => {
    const row = await firstRow(`process_hash:${osBinary.md5}`, [...LOOKUP_FIELDS].reverse());
    expect(Object.keys(row)).toEqual(['process_hash', 'process_name', 'process_publisher', 'process_publisher_state', 'process_sha256']);
    expect(Object.keys(await firstRow(`process_hash:${osBinary.md5}`, ['device_name']))).toEqual(['device_name']);
  });

  it('a field the row has no value for, or that the simulator does not know, is absent rather than null', async () => {
    const row = await firstRow(`process_hash:${unsignedRecorded.md5}`, [...LOOKUP_FIELDS, 'ttp']);
    expect(row).not.toHaveProperty('process_publisher');
    expect(row).not.toHaveProperty('ttp');
    expect(Object.values(row)).not.toContain(null);
  });

  it('every field of ALL_FIELDS can be asked for and has a JSON value', async () => {
    const row = await firstRow(`process_hash:${osBinary.md5}`, [...ALL_FIELDS]);
    expect(Object.keys(row)).toEqual([...ALL_FIELDS]);
  });
});

describe('row values', () => {
  it('holds the five lookup fields in Cloud shapes', async () => {
    const row = await firstRow(`process_hash:${osBinary.md5}`, LOOKUP_FIELDS);
    expect([...(row['process_hash'] as string[])].sort()).toEqual([osBinary.md5, osBinary.sha256].sort());
    expect(row['process_sha256']).toBe(osBinary.sha256);
    expect(row['process_name']).toBe('c:\\windows\\system32\\svchost.exe');
    expect(row['process_publisher']).toEqual(['Microsoft Windows']);
    expect(row['process_publisher_state']).toEqual([
      'FILE_SIGNATURE_STATE_OS',
      'FILE_SIGNATURE_STATE_SIGNED',
      'FILE_SIGNATURE_STATE_TRUSTED',
      'FILE_SIGNATURE_STATE_VERIFIED',
    ]);
  });

  it('puts the sha256 first in some rows and the md5 first in others', async () => {
    const found = await search(app, `process_hash:${popular.md5}`, { fields: ['process_hash'] });
    const sha256First = found.results.filter((row) => (row['process_hash'] as string[])[0] === popular.sha256).length;
    expect(sha256First).toBeGreaterThan(popular.rows * 0.4);
    expect(sha256First).toBeLessThan(popular.rows * 0.6);
    for (const row of found.results) expect((row['process_hash'] as string[]).join()).toMatch(/^[0-9a-f,]+$/);
  });

  it('carries the org key, lists where Cloud has lists, and ids that never repeat', async () => {
    const found = await search(app, `process_hash:${popular.md5}`, { fields: ['*'] });
    const guids = new Set<string>();
    const devices = new Set<number>();
    for (const row of found.results) {
      expect(row['org_id']).toBe(ORG_KEY);
      expect(row['process_guid']).toMatch(new RegExp(`^${ORG_KEY}-[0-9a-f]{8}-[0-9a-f]{8}-00000000-[0-9a-f]{15}$`));
      expect(row['process_pid']).toEqual([expect.any(Number)]);
      expect(row['process_cmdline']).toEqual([expect.any(String)]);
      expect(row['process_username']).toEqual([expect.any(String)]);
      expect(row['device_os']).toBe('WINDOWS');
      expect(Number.isNaN(Date.parse(row['backend_timestamp'] as string))).toBe(false);
      expect(Date.parse(row['device_timestamp'] as string)).toBeLessThan(Date.parse(row['backend_timestamp'] as string));
      guids.add(row['process_guid'] as string);
      devices.add(row['device_id'] as number);
    }
    expect(guids.size).toBe(popular.rows);
    expect(devices.size).toBe(500);
  });

  it('reads the same row the same way every time', async () => {
    const a = await search(app, `process_hash:${osBinary.md5}`, { fields: [...ALL_FIELDS] });
    const b = await search(app, `process_hash:${osBinary.sha256}`, { fields: [...ALL_FIELDS] });
    expect(b.results).toEqual(a.results);
  });

  it('gives Linux binaries Linux devices and paths', async () => {
    const row = await firstRow(`process_hash:${unsignedRecorded.sha256}`, ['device_os', 'process_name', 'parent_name', 'process_username']);
    expect(row).toEqual({
      device_os: 'LINUX',
      parent_name: '/usr/lib/systemd/systemd',
      process_name: '/usr/bin/bash',
      process_username: ['root'],
    });
  });
});
