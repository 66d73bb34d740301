import { afterEach, describe, expect, it } from 'vitest';
import {
  binary,
  closeClients,
  cloudClient,
  complete,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  OS_BINARY_STATES,
  rejection,
  results,
  row,
} from './support/cloud-fixtures.js';

/**
 * Answers that are not what Cloud sends: each is CB_MALFORMED_RESPONSE with
 * the status, naming the key at fault but never the value found there.
 * Unknown extra keys are fine (the recorded answers carry dozens).
 */

const notepad = binary('notepad.exe');
const other = binary('other.exe');
const signedRow = row(notepad, OS_BINARY_STATES);
const VALUE = 'zz-distinctive-value-zz';

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

const search = (hashes: string[] = [notepad.md5]) => cloudClient().searchHashes(hashes, new AbortController().signal, FAR());

describe('job creation answers', () => {
  it.each<[string, string | object]>([
    ['not JSON', `job ${VALUE}`],
    ['a JSON array', '[]'],
    ['a JSON string', `"${VALUE}"`],
    ['without job_id', { id: VALUE }],
    ['with a numeric job_id', { job_id: 42 }],
    ['with an empty job_id', { job_id: '' }],
    ['with a job_id holding a slash', { job_id: `../${VALUE}` }],
    ['with a job_id holding a space', { job_id: `a ${VALUE}` }],
    ['with a job_id holding a query', { job_id: `a?${VALUE}` }],
    ['with a job_id too long', { job_id: 'a'.repeat(129) }],
  ])('refuses an answer %s', async (_label, body) => {
    createJob().reply(200, body, { headers: { 'content-type': 'application/json' } });
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).not.toContain(VALUE);
  });

  it('refuses a 204 without a body', async () => {
    createJob().reply(204);
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(204);
  });

  it('names job_id as the key at fault', async () => {
    createJob().reply(200, { job_id: 7 });
    expect((await rejection(search())).message).toContain('job_id');
  });

  it('takes a job_id of any safe characters, with extra keys around it', async () => {
    createJob().reply(200, { job_id: 'Job:1.2_3-4', connector_id: 'ABCDEFGH' });
    results(0, 500, 'Job:1.2_3-4').reply(200, complete([signedRow]));
    await expect(search()).resolves.toHaveProperty('size', 1);
  });
});

describe('poll answers', () => {
  it.each<[string, object, string]>([
    ['without contacted', { completed: 1 }, 'contacted'],
    ['with contacted as a string', { contacted: '45', completed: 45 }, 'contacted'],
    ['with a negative completed', { contacted: 45, completed: -1 }, 'completed'],
    ['with a fractional contacted', { contacted: 4.5, completed: 45 }, 'contacted'],
    ['complete without results', { contacted: 45, completed: 45, num_found: 0, num_available: 0 }, 'results'],
    ['complete without num_found', { ...complete([]), num_found: undefined }, 'num_found'],
    ['complete with num_available as a string', { ...complete([]), num_available: '0' }, 'num_available'],
    ['with results not an array', { ...complete([]), results: { rows: [] } }, 'results'],
    ['with a row that is not an object', { ...complete([]), results: [VALUE], num_found: 1, num_available: 1 }, 'results.0'],
    ['with a row without process_hash', complete([{ process_sha256: notepad.sha256 }]), 'process_hash'],
    ['with process_hash a string', complete([{ process_hash: notepad.md5 }]), 'process_hash'],
    ['with a number in process_hash', complete([{ process_hash: [notepad.md5, 7] }]), 'process_hash'],
    ['with process_sha256 not a sha256', complete([{ ...signedRow, process_sha256: VALUE }]), 'process_sha256'],
    ['with process_publisher a string', complete([{ ...signedRow, process_publisher: VALUE }]), 'process_publisher'],
    ['with process_publisher_state a string', complete([{ ...signedRow, process_publisher_state: VALUE }]), 'process_publisher_state'],
    ['with a number among the states', complete([{ ...signedRow, process_publisher_state: [1] }]), 'process_publisher_state'],
  ])('refuses an answer %s, naming the key', async (_label, body, key) => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, body);
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.upstreamStatus).toBe(200);
    expect(error.message).toContain(key);
    expect(error.message).not.toContain(VALUE);
    expect(error.message).not.toContain(notepad.md5);
  });

  it('refuses a row about none of the asked hashes (the server answered something not asked)', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, complete([signedRow, row(other, OS_BINARY_STATES)]));
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('not asked');
    expect(error.message).not.toContain(other.md5);
  });

  it('refuses an empty first page of a job that says rows are available', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, complete([], { numFound: 3, numAvailable: 3 }));
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('no row');
  });

  it('refuses a poll answer that is not JSON', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, `<html>${VALUE}</html>`);
    const error = await rejection(search());
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).not.toContain(VALUE);
  });

  it('takes unknown keys and a message', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, {
      ...complete([{ ...signedRow, ttp: ['X'], process_name: ['not', 'a string'] }]),
      message: 'fine',
      approximate_unaggregated: 9,
    });
    await expect(search()).resolves.toHaveProperty('size', 1);
  });
});

describe('page answers', () => {
  function firstPage(): void {
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(other, OS_BINARY_STATES)], { numFound: 3, numAvailable: 3 }));
  }

  it('refuses a page without results', async () => {
    firstPage();
    results(1, 1).reply(200, { num_found: 3, num_available: 3 });
    const error = await rejection(
      cloudClient({ rowsPerPage: 1 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('results');
  });

  it('refuses a page row about none of the asked hashes', async () => {
    firstPage();
    results(1, 1).reply(200, complete([row(binary('stranger'), OS_BINARY_STATES)], { numFound: 3, numAvailable: 3 }));
    const error = await rejection(
      cloudClient({ rowsPerPage: 1 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
  });

  it('refuses an empty page before the rows said to be available', async () => {
    firstPage();
    results(1, 1).reply(200, complete([], { numFound: 3, numAvailable: 3 }));
    const error = await rejection(
      cloudClient({ rowsPerPage: 1 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR()),
    );
    expect(error.code).toBe('CB_MALFORMED_RESPONSE');
    expect(error.message).toContain('no row at start 1 of 3');
  });
});
