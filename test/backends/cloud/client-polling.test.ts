import { afterEach, describe, expect, it, vi } from 'vitest';
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
  results,
  row,
  running,
} from './support/cloud-fixtures.js';

/**
 * Polling a job until it is complete: `contacted > 0 && completed >= contacted`.
 * The complete answer is the first page, so no read follows it when that page
 * resolves everything (the client's dispatcher, this test's MockAgent, refuses
 * any request not arranged, and afterEach checks every arranged one was made).
 */

const notepad = binary('notepad.exe');
const signedRow = row(notepad, OS_BINARY_STATES, { publishers: ['Microsoft Windows'] });

afterEach(async () => {
  vi.useRealTimers();
  await closeClients();
  expectNoPendingMocks();
});

describe('until complete', () => {
  it('keeps polling while no backend was contacted, then while some have not answered', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, running(0, 0));
    results().reply(200, running(45, 12));
    results().reply(200, running(45, 44));
    results().reply(200, complete([signedRow]));
    const found = await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.get(notepad.md5)?.states).toEqual(OS_BINARY_STATES);
  });

  it('takes a progress-only answer while the job runs (no results, no counts yet)', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, { contacted: 0, completed: 0 });
    results().reply(200, { contacted: 12, completed: 3, query: { rows: 500 } });
    results().reply(200, complete([signedRow]));
    const found = await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect([...found.keys()]).toEqual([notepad.md5]);
  });

  it('does not take rows of a running job as the answer', async () => {
    const other = binary('other.exe');
    createJob().reply(200, { job_id: JOB_ID });
    // Partial rows while running: not complete, so not read (they could not prove absence of anything).
    results().reply(200, { ...complete([row(notepad, OS_BINARY_STATES)]), contacted: 45, completed: 20 });
    results().reply(200, complete([]));
    const found = await cloudClient().searchHashes([notepad.md5, other.md5], new AbortController().signal, FAR());
    expect(found.size).toBe(0);
  });

  it('counts completed above contacted as complete', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    results().reply(200, { ...complete([signedRow]), contacted: 44, completed: 45 });
    const found = await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(found.has(notepad.md5)).toBe(true);
  });

  it('stops at the first complete answer when it resolves every hash (no extra read)', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    let polls = 0;
    results()
      .reply(() => {
        polls++;
        return { statusCode: 200, data: complete([signedRow], { numFound: 1200, numAvailable: 1200 }) };
      })
      .times(1);
    const found = await cloudClient().searchHashes([notepad.md5], new AbortController().signal, FAR());
    expect(polls).toBe(1);
    expect(found.get(notepad.md5)?.publishers).toEqual(['Microsoft Windows']);
  });
});

/**
 * Lets real I/O (MockAgent's replies, the response body streams) run without moving the fake
 * clock, until the client sleeps again (its poll wait is the only fake timer)
 * or the search has ended.
 */
async function untilSleeping(ended: () => boolean): Promise<void> {
  for (let turn = 0; turn < 20_000 && vi.getTimerCount() === 0 && !ended(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The search's promise, and whether it has settled. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; ended: () => boolean } {
  let ended = false;
  void promise.then(
    () => (ended = true),
    () => (ended = true),
  );
  return { promise, ended: () => ended };
}

describe('poll intervals', () => {
  it('waits 500 ms before the first poll, then x1.5 per poll up to 2000 ms (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let polls = 0;
    createJob().reply(200, { job_id: JOB_ID });
    const answers = [running(0, 0), running(0, 0), running(45, 1), running(45, 30), running(45, 44), complete([signedRow])];
    results()
      .reply(() => ({ statusCode: 200, data: answers[polls++]! }))
      .times(answers.length);
    const search = tracked(
      cloudClient({ pollIntervalMs: undefined, maxPollIntervalMs: undefined }).searchHashes(
        [notepad.md5],
        new AbortController().signal,
        FAR(),
      ),
    );
    await untilSleeping(search.ended);
    // Waits 500, 750, 1125, 1687.5 (rounded to 1688), then capped: 2000, 2000.
    const expectedWaits = [500, 750, 1125, 1688, 2000, 2000];
    for (const [index, waitMs] of expectedWaits.entries()) {
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      await untilSleeping(search.ended);
      expect(polls).toBe(index);
      await vi.advanceTimersByTimeAsync(1);
      await untilSleeping(search.ended);
      expect(polls).toBe(index + 1);
    }
    await expect(search.promise).resolves.toHaveProperty('size', 1);
  });

  it('honours pollIntervalMs and maxPollIntervalMs (measured, real timers)', async () => {
    const at: number[] = [];
    createJob().reply(200, () => {
      at.push(Date.now());
      return { job_id: JOB_ID };
    });
    const answers = [running(0, 0), running(3, 1), running(3, 2), running(3, 2), complete([signedRow])];
    results()
      .reply(() => {
        at.push(Date.now());
        return { statusCode: 200, data: answers[at.length - 2]! };
      })
      .times(answers.length);
    await cloudClient({ pollIntervalMs: 40, maxPollIntervalMs: 70 }).searchHashes([notepad.md5], new AbortController().signal, FAR());
    const gaps = at.slice(1).map((time, index) => time - at[index]!);
    // 40, 60, then capped at 70: each gap at least its wait (a timer never fires early; 2 ms for clock rounding).
    const waits = [40, 60, 70, 70, 70];
    expect(gaps).toHaveLength(waits.length);
    for (const [index, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(waits[index]! - 2);
  });

  it('starts at the cap when pollIntervalMs is the longer (cap defaults to it)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let polls = 0;
    createJob().reply(200, { job_id: JOB_ID });
    results()
      .reply(() => ({ statusCode: 200, data: polls++ === 0 ? running(0, 0) : complete([signedRow]) }))
      .times(2);
    const search = tracked(
      cloudClient({ pollIntervalMs: 3000, maxPollIntervalMs: undefined }).searchHashes([notepad.md5], new AbortController().signal, FAR()),
    );
    await untilSleeping(search.ended);
    await vi.advanceTimersByTimeAsync(2999);
    await untilSleeping(search.ended);
    expect(polls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await untilSleeping(search.ended);
    expect(polls).toBe(1);
    // The default cap is the interval itself: 3000 again, not 4500.
    await vi.advanceTimersByTimeAsync(3000);
    await untilSleeping(search.ended);
    expect(polls).toBe(2);
    await expect(search.promise).resolves.toHaveProperty('size', 1);
  });
});
