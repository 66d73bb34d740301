import { afterEach, describe, expect, it } from 'vitest';
import { createRequestBudget } from '../../../src/upstream/request-budget.js';
import {
  binary,
  closeClients,
  cloud,
  cloudClient,
  countingBudget,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  JOBS_PATH,
  NO_DATA,
  running,
} from './support/cloud-fixtures.js';

/**
 * The caller's signal aborts everything: a poll's wait, a request in flight,
 * a wait for a budget place. The search then rejects with `signal.reason`
 * unchanged and sends nothing more.
 */

const notepad = binary('notepad.exe');
const RESULTS_PATH = `${JOBS_PATH}/${JOB_ID}/results`;

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

/** Every request to ORIGIN, counted; the job never completes. */
function neverCompletes(onPoll?: () => void): { requests: () => number } {
  let requests = 0;
  createJob().reply(() => {
    requests++;
    return { statusCode: 200, data: { job_id: JOB_ID } };
  });
  // Every results read, whatever its query.
  cloud()
    .intercept({ path: (path) => path.split('?')[0] === RESULTS_PATH, method: 'GET' })
    .reply(() => {
      requests++;
      onPoll?.();
      return { statusCode: 200, data: running(45, 3) };
    })
    .persist();
  return { requests: () => requests };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('abort mid-poll', () => {
  it('rejects with the signal reason during the wait between polls, and polls no more', async () => {
    const controller = new AbortController();
    let polled!: () => void;
    const firstPoll = new Promise<void>((resolve) => (polled = resolve));
    const server = neverCompletes(() => polled());
    const pending = cloudClient({ pollIntervalMs: 30, maxPollIntervalMs: 30 }).searchHashes([notepad.md5], controller.signal, FAR());
    await firstPoll;
    // Let the poll's answer arrive, so the client is in its wait for the next poll.
    await pause(10);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const sent = server.requests();
    await pause(150);
    expect(server.requests()).toBe(sent);
  });

  it('rejects with the signal reason while a poll is in flight', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    let polled = false;
    // A reply callback runs as the request arrives; the answer then waits out the delay.
    cloud()
      .intercept({ path: (path) => path.split('?')[0] === RESULTS_PATH, method: 'GET' })
      .reply(() => {
        polled = true;
        return { statusCode: 200, data: NO_DATA };
      })
      .delay(2000);
    const controller = new AbortController();
    const pending = cloudClient().searchHashes([notepad.md5], controller.signal, FAR());
    // The poll goes ~5 ms after creation and the MockAgent holds its answer for 2 s: at 100 ms it is in flight.
    await pause(100);
    expect(polled).toBe(true);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('rejects with a DOMException AbortError when aborted without a reason', async () => {
    neverCompletes();
    const controller = new AbortController();
    const pending = cloudClient({ pollIntervalMs: 20, maxPollIntervalMs: 20 }).searchHashes([notepad.md5], controller.signal, FAR());
    setTimeout(() => controller.abort(), 60);
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
  });
});

describe('abort elsewhere', () => {
  it('rejects with the signal reason while job creation is in flight', async () => {
    createJob().reply(200, { job_id: JOB_ID }).delay(2000);
    const controller = new AbortController();
    const pending = cloudClient().searchHashes([notepad.md5], controller.signal, FAR());
    setTimeout(() => controller.abort('stop'), 50);
    await expect(pending).rejects.toBe('stop');
  });

  it('rejects with the signal reason while waiting for a budget place, having sent nothing', async () => {
    const budget = createRequestBudget({ limit: 10 });
    budget.pauseFor(30_000);
    const controller = new AbortController();
    const pending = cloudClient({ budget }).searchHashes([notepad.md5], controller.signal, Date.now() + 60_000);
    setTimeout(() => controller.abort('stop'), 50);
    // Nothing is arranged: a request would have failed as CB_UNREACHABLE instead.
    await expect(pending).rejects.toBe('stop');
    expect(budget.usage().used).toBe(0);
  });

  it('sends nothing and takes no place when the signal is already aborted', async () => {
    const budget = countingBudget();
    const reason = new Error('already gone');
    await expect(cloudClient({ budget }).searchHashes([notepad.md5], AbortSignal.abort(reason), FAR())).rejects.toBe(reason);
    expect(budget.takes).toHaveLength(0);
  });
});
