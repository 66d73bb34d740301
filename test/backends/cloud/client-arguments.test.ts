import { afterEach, describe, expect, it } from 'vitest';
import { MAX_HASHES_PER_JOB } from '../../../src/backends/cloud/client.js';
import {
  binary,
  closeClients,
  cloudClient,
  complete,
  countingBudget,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  results,
} from './support/cloud-fixtures.js';

/** Bad hashes are a programming error: TypeError, before any budget place is taken or anything is sent. */

const notepad = binary('notepad.exe');

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

const distinct = (count: number) => Array.from({ length: count }, (_v, i) => binary(`bin-${i}`)[i % 2 === 0 ? 'md5' : 'sha256']);

describe('searchHashes arguments', () => {
  it('is 100 hashes per job', () => {
    expect(MAX_HASHES_PER_JOB).toBe(100);
  });

  it.each<[string, unknown]>([
    ['no hash', []],
    ['an md5 one digit short', [notepad.md5.slice(1)]],
    ['a sha1 (40 hex digits)', ['a9993e364706816aba3e25717850c26c9cd0d89d']],
    ['a sha256 with a non-hex digit', [`${notepad.sha256.slice(1)}x`]],
    ['a query in place of a hash', ['process_name:*']],
    ['an OR smuggled after a hash', [`${notepad.md5} OR process_hash:*`]],
    ['a good hash and a bad one', [notepad.md5, 'nope']],
    ['a number', [12345]],
    ['undefined', [undefined]],
    ['a string instead of an array', notepad.md5],
    [`${MAX_HASHES_PER_JOB + 1} distinct hashes`, distinct(MAX_HASHES_PER_JOB + 1)],
  ])('rejects %s with a TypeError, sending nothing and taking no place', async (_label, hashes) => {
    const budget = countingBudget();
    const error: unknown = await cloudClient({ budget })
      .searchHashes(hashes as string[], new AbortController().signal, FAR())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(budget.takes).toHaveLength(0);
  });

  it(`takes ${MAX_HASHES_PER_JOB} distinct hashes, md5s and sha256s mixed, duplicates in any case not counted`, async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, complete([]));
    const hashes = distinct(MAX_HASHES_PER_JOB);
    const found = await cloudClient().searchHashes(
      [...hashes, ...hashes.map((hash) => hash.toUpperCase())],
      new AbortController().signal,
      FAR(),
    );
    expect(found.size).toBe(0);
  });

  it('rejects (never throws synchronously), so callers handle every failure one way', () => {
    const client = cloudClient();
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = client.searchHashes(['bad'], new AbortController().signal, FAR()))).not.toThrow();
    return expect(promise).rejects.toBeInstanceOf(TypeError);
  });
});
