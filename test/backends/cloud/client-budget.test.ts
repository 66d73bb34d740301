import { afterEach, describe, expect, it } from 'vitest';
import { createRequestBudget, type RequestBudget } from '../../../src/upstream/request-budget.js';
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

/** Every request takes one place in the request budget first: job creation, every poll, every results page. */

const notepad = binary('notepad.exe');
const popular = binary('explorer.exe');

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

/** create, two polls (running, complete with one page of two), one more page: four requests. */
function arrangeFourRequests(log?: string[]): void {
  const note = (what: string) => log?.push(what);
  createJob().reply(200, () => {
    note('request');
    return { job_id: JOB_ID };
  });
  results(0, 2).reply(200, () => {
    note('request');
    return running(45, 3);
  });
  results(0, 2).reply(200, () => {
    note('request');
    return complete([row(popular, OS_BINARY_STATES), row(popular, OS_BINARY_STATES)], { numAvailable: 3, numFound: 3 });
  });
  results(2, 2).reply(200, () => {
    note('request');
    return complete([row(notepad, OS_BINARY_STATES)], { numAvailable: 3, numFound: 3 });
  });
}

describe('with a counting budget', () => {
  it('takes one place right before each request, with the caller signal and deadline', async () => {
    const log: string[] = [];
    const budget = countingBudget();
    const logging: RequestBudget = {
      ...budget,
      take: (signal, deadlineAt) => {
        log.push('take');
        return budget.take(signal, deadlineAt);
      },
    };
    arrangeFourRequests(log);
    const signal = new AbortController().signal;
    const deadlineAt = Date.now() + 45_000;
    const found = await cloudClient({ budget: logging, rowsPerPage: 2 }).searchHashes([popular.md5, notepad.md5], signal, deadlineAt);
    expect(found.size).toBe(2);
    expect(log).toEqual(['take', 'request', 'take', 'request', 'take', 'request', 'take', 'request']);
    expect(budget.takes).toHaveLength(4);
    for (const take of budget.takes) {
      expect(take.deadlineAt).toBe(deadlineAt);
      // The caller's signal itself, so a wait for a place ends when the caller gives up.
      expect(take.signal).toBe(signal);
    }
    expect(budget.pauses).toEqual([]);
  });

  it('takes places for a follow-up job too', async () => {
    const budget = countingBudget();
    createJob().reply(200, { job_id: JOB_ID });
    results(0, 1).reply(200, complete([row(popular, OS_BINARY_STATES)], { numFound: 50, numAvailable: 50 }));
    createJob().reply(200, { job_id: 'follow-up' });
    results(0, 1, 'follow-up').reply(200, complete([row(notepad, OS_BINARY_STATES)]));
    const found = await cloudClient({ budget, rowsPerPage: 1, maxPagesPerJob: 1 }).searchHashes(
      [popular.md5, notepad.md5],
      new AbortController().signal,
      FAR(),
    );
    expect(found.size).toBe(2);
    expect(budget.takes).toHaveLength(4);
  });
});

describe('with the real budget', () => {
  it('uses one place per request', async () => {
    const budget = createRequestBudget({ limit: 100 });
    arrangeFourRequests();
    await cloudClient({ budget, rowsPerPage: 2 }).searchHashes([popular.md5, notepad.md5], new AbortController().signal, FAR());
    expect(budget.usage().used).toBe(4);
  });

  it('waits for a place when the window is full, then sends', async () => {
    const budget = createRequestBudget({ limit: 1, windowMs: 150 });
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, complete([row(notepad, OS_BINARY_STATES)]));
    const started = Date.now();
    const found = await cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.has(notepad.md5)).toBe(true);
    // The poll had to wait for the creation's place to leave the window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('refuses at once with UpstreamBudgetSpentError when the next place comes after the deadline, sending nothing', async () => {
    const budget = createRequestBudget({ limit: 2, windowMs: 60_000 });
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, complete([]));
    const client = cloudClient({ budget });
    await client.searchHashes([notepad.md5], new AbortController().signal, FAR());
    // Nothing arranged: a request sent anyway would fail as CB_UNREACHABLE (the MockAgent refuses it), not this.
    const started = Date.now();
    const error = await rejectionOf(client.searchHashes([notepad.md5], new AbortController().signal, Date.now() + 1000));
    expect(error).toBeInstanceOf(UpstreamBudgetSpentError);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('refuses a poll the budget has no place for: every poll takes one', async () => {
    const budget = createRequestBudget({ limit: 2, windowMs: 60_000 });
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, running(0, 0));
    const error = await rejectionOf(cloudClient({ budget }).searchHashes([notepad.md5], new AbortController().signal, Date.now() + 2000));
    expect(error).toBeInstanceOf(UpstreamBudgetSpentError);
    expect(budget.usage().used).toBe(2);
  });

  it('a closed client takes no place', async () => {
    const budget = createRequestBudget({ limit: 5 });
    const client = cloudClient({ budget });
    await client.close();
    const error = await rejection(client.searchHashes([notepad.md5], new AbortController().signal, FAR()));
    expect(error.code).toBe('CB_UNREACHABLE');
    expect(budget.usage().used).toBe(0);
  });
});
