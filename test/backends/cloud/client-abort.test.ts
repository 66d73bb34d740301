import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRequestBudget } from '../../../src/upstream/request-budget.js';
import {
  binary,
  closeClients,
  cloudClient,
  countingBudget,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  JOBS_PATH,
  NO_DATA,
  ORIGIN,
  running,
} from './support/cloud-fixtures.js';

/**
 * The caller's signal aborts everything: a poll's wait, a request in flight,
 * a wait for a budget place. The search then rejects with `signal.reason`
 * unchanged and sends nothing more.
 */

const notepad = binary('notepad.exe');

beforeAll(() => nock.disableNetConnect());
afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});
afterAll(() => nock.enableNetConnect());

/** Every request to ORIGIN, counted; the job never completes. */
function neverCompletes(onPoll?: () => void): { requests: () => number } {
  let requests = 0;
  nock(ORIGIN)
    .post(JOBS_PATH)
    .reply(() => {
      requests++;
      return [200, { job_id: JOB_ID }];
    });
  nock(ORIGIN)
    .persist()
    .get(`${JOBS_PATH}/${JOB_ID}/results`)
    .query(true)
    .reply(() => {
      requests++;
      onPoll?.();
      return [200, running(45, 3)];
    });
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
    nock.cleanAll();
  });

  it('rejects with the signal reason while a poll is in flight', async () => {
    createJob().reply(200, { job_id: JOB_ID });
    let polled = false;
    nock(ORIGIN)
      .get(`${JOBS_PATH}/${JOB_ID}/results`)
      .query(true)
      .delay(2000)
      .reply(() => {
        polled = true;
        return [200, NO_DATA];
      });
    const controller = new AbortController();
    const pending = cloudClient().searchHashes([notepad.md5], controller.signal, FAR());
    // The poll goes ~5 ms after creation and nock holds its answer for 2 s: at 100 ms it is in flight.
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
    nock.cleanAll();
  });
});

describe('abort elsewhere', () => {
  it('rejects with the signal reason while job creation is in flight', async () => {
    createJob().delay(2000).reply(200, { job_id: JOB_ID });
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
