import { afterEach, describe, expect, it } from 'vitest';
import { createRequestBudget } from '../../../src/upstream/request-budget.js';
import { UpstreamBudgetSpentError } from '../../../src/upstream/upstream-errors.js';
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
  OS_BINARY_STATES,
  rejection,
  rejectionOf,
  results,
  row,
  running,
} from './support/cloud-fixtures.js';

/**
 * 429s. Every one pauses the request budget for its Retry-After (1 s without
 * one). On job creation the search rejects with CB_RATE_LIMITED (the guard
 * retries the lookup after Retry-After); on a poll or a page read the job is
 * kept: the same request goes again once the budget lets it.
 */

const notepad = binary('notepad.exe');
const other = binary('other.exe');
const signedRow = row(notepad, OS_BINARY_STATES);

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

describe('on job creation', () => {
  it.each<[string, Record<string, string>, number]>([
    ['Retry-After in seconds', { 'retry-after': '3' }, 3000],
    ['no Retry-After', {}, 1000],
    ['an unparseable Retry-After', { 'retry-after': 'soon' }, 1000],
  ])('rejects with CB_RATE_LIMITED and pauses the budget (%s)', async (_label, headers, pausedMs) => {
    createJob().reply(429, 'Too Many Requests', { headers });
    const budget = countingBudget();
    const error = await rejection(cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe('CB_RATE_LIMITED');
    expect(error.upstreamStatus).toBe(429);
    expect(budget.pauses).toEqual([pausedMs]);
    expect(budget.takes).toHaveLength(1);
  });

  it('passes Retry-After on to the guard', async () => {
    createJob().reply(429, '', { headers: { 'retry-after': '4' } });
    const error = await rejection(cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.retryAfterMs).toBe(4000);
    expect(error.transient).toBe(true);
  });

  it('rejects on a follow-up job creation too', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(other, OS_BINARY_STATES)], { numFound: 50, numAvailable: 50 }));
    createJob().reply(429, '', { headers: { 'retry-after': '2' } });
    const budget = countingBudget();
    const error = await rejection(
      cloudClient({ budget, rowsPerPage: 1, maxPagesPerJob: 1 }).searchHashes(
        [other.md5, notepad.md5],
        new AbortController().signal,
        FAR(),
      ),
    );
    expect(error.code).toBe('CB_RATE_LIMITED');
    expect(budget.pauses).toEqual([2000]);
  });
});

describe('on a poll', () => {
  it('pauses for Retry-After, then polls the same job again', async () => {
    let creations = 0;
    createJob()
      .reply(() => {
        creations++;
        return { statusCode: 200, data: { job_id: JOB_ID } };
      })
      .times(1);
    results().reply(200, running(45, 3));
    results().reply(429, '', { headers: { 'retry-after': '2' } });
    results().reply(200, complete([signedRow]));
    const budget = countingBudget();
    const found = await cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.get(notepad.md5)?.states).toEqual(OS_BINARY_STATES);
    expect(creations).toBe(1);
    expect(budget.pauses).toEqual([2000]);
    // create, poll, 429, poll: a place each, the 429 included.
    expect(budget.takes).toHaveLength(4);
  });

  it('pauses 1 s when there is no Retry-After, and keeps going through several 429s', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(429).times(3);
    results().reply(200, complete([signedRow]));
    const budget = countingBudget();
    await cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(budget.pauses).toEqual([1000, 1000, 1000]);
  });

  it('keeps going after a 429 with Retry-After: 0', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(429, '', { headers: { 'retry-after': '0' } });
    results().reply(200, complete([signedRow]));
    const budget = countingBudget();
    await cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(budget.pauses).toEqual([0]);
  });

  it('with the real budget, sends nothing until the pause is over', async () => {
    const sentAt: number[] = [];
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(() => {
      sentAt.push(Date.now());
      return { statusCode: 429, data: '', responseOptions: { headers: { 'retry-after': '1' } } };
    });
    results().reply(() => {
      sentAt.push(Date.now());
      return { statusCode: 200, data: complete([signedRow]) };
    });
    const budget = createRequestBudget({ limit: 100 });
    const found = await cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.size).toBe(1);
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(950);
    expect(budget.usage().used).toBe(3);
  });

  it('with the real budget, rejects with UpstreamBudgetSpentError when the pause passes the deadline', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(429, '', { headers: { 'retry-after': '30' } });
    const budget = createRequestBudget({ limit: 100 });
    const started = Date.now();
    const error = await rejectionOf(cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, Date.now() + 3000));
    expect(error).toBeInstanceOf(UpstreamBudgetSpentError);
    expect((error as UpstreamBudgetSpentError).retryAfterSeconds).toBeGreaterThanOrEqual(29);
    // Refused at once, not after waiting for the deadline.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(budget.usage().pausedUntil).toBeGreaterThan(Date.now() + 25_000);
  });
});

describe('on a page read', () => {
  it('pauses, then reads the same page again', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(other, OS_BINARY_STATES)], { numFound: 2, numAvailable: 2 }));
    results(1, 1).reply(429, '', { headers: { 'retry-after': '5' } });
    results(1, 1).reply(200, complete([signedRow], { numFound: 2, numAvailable: 2 }));
    const budget = countingBudget();
    const found = await cloudClient({ budget, rowsPerPage: 1 }).searchHashes([other.md5, notepad.md5], new AbortController().signal, FAR());
    expect(found.size).toBe(2);
    expect(budget.pauses).toEqual([5000]);
    expect(budget.takes).toHaveLength(4);
  });
});
