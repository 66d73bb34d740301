/**
 * The batch runner's retry policy, in process, with a scripted Signet so that
 * the waits it asks for can be read instead of waited: Retry-After honoured,
 * 1, 2, 4 s without one, waits over the cap not waited, at most 1 + retries
 * requests per chunk, results always in input order.
 */
import { describe, expect, it } from 'vitest';
import type { InputEntry } from '../../src/cli/batch-input.js';
import type { BatchOptions } from '../../src/cli/batch-runner.js';
import { MAX_RETRY_WAIT_SECONDS, runBatch } from '../../src/cli/batch-runner.js';
import type { Failure } from '../../src/cli/signet-client.js';

type BatchAnswer = { ok: true; results: unknown[] } | { ok: false; failure: Failure };

const entries = (n: number): InputEntry[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'item', line: i + 1, item: { md5: `m${i}`, name: `n${i}` } }));
const verdict = (item: unknown) => ({ ...(item as object), verdict: 'signed' });
const itemError = (item: unknown, retryAfterSeconds?: number) => ({
  ...(item as object),
  error: {
    status: 503,
    code: 'UPSTREAM_QUEUE_FULL',
    title: 't',
    detail: 'd',
    retryable: true,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  },
});
const failure = (retryable: boolean, retryAfterSeconds?: number): Failure => ({
  status: retryable ? 503 : 401,
  code: retryable ? 'UPSTREAM_DISPOSED' : 'UNAUTHORIZED',
  title: 't',
  detail: 'd',
  retryable,
  ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
});

/** Signet scripted one answer per request; records what was sent and what the runner waited. */
async function run(input: InputEntry[], answers: ((items: readonly unknown[]) => BatchAnswer)[], options: Partial<BatchOptions> = {}) {
  const sent: unknown[][] = [];
  const waits: number[] = [];
  const emitted: unknown[] = [];
  const summary = await runBatch(
    input,
    {
      batch: async (items) => {
        sent.push([...items]);
        const answer = answers[sent.length - 1] ?? ((all) => ({ ok: true, results: all.map(verdict) }));
        return answer(items) as never;
      },
    },
    { chunkSize: 1000, retries: 3, emit: (result) => emitted.push(result), sleep: async (ms) => void waits.push(ms), ...options },
  );
  return { sent, waits, emitted, summary };
}

describe('retries of a whole request', () => {
  it('waits Retry-After, then sends the same items again', async () => {
    const { sent, waits, summary } = await run(entries(3), [() => ({ ok: false, failure: failure(true, 7) })]);
    expect(waits).toEqual([7000]);
    expect(sent).toEqual([entries(3).map((e) => (e as { item: unknown }).item), entries(3).map((e) => (e as { item: unknown }).item)]);
    expect(summary).toMatchObject({ signed: 3, errors: 0, requests: 2, stoppedBy: undefined });
  });

  it('without Retry-After (no answer at all), waits 1, 2, 4 s and gives up after --retries', async () => {
    const down = () => ({ ok: false as const, failure: { ...failure(true), status: null, code: 'SIGNET_UNREACHABLE' } });
    const { waits, summary, emitted } = await run(entries(2), [down, down, down, down]);
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(summary).toMatchObject({ requests: 4, errors: 2, stoppedBy: { code: 'SIGNET_UNREACHABLE' } });
    expect(emitted).toMatchObject([
      { md5: 'm0', name: 'n0', error: { status: null, code: 'SIGNET_UNREACHABLE', retryable: true } },
      { md5: 'm1' },
    ]);
  });

  it(`does not wait longer than ${MAX_RETRY_WAIT_SECONDS} s: the failure is reported`, async () => {
    const { waits, summary } = await run(entries(1), [() => ({ ok: false, failure: failure(true, MAX_RETRY_WAIT_SECONDS + 1) })]);
    expect(waits).toEqual([]);
    expect(summary).toMatchObject({ requests: 1, errors: 1 });
  });

  it('a failure that is not retryable is final, and stops the later chunks from being sent', async () => {
    const { sent, waits, emitted, summary } = await run(entries(5), [() => ({ ok: false, failure: failure(false) })], { chunkSize: 2 });
    expect(waits).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(emitted).toHaveLength(5);
    expect(emitted[4]).toMatchObject({
      md5: 'm4',
      error: { code: 'UNAUTHORIZED', detail: 'not sent, since an earlier request failed: d' },
    });
    expect(summary).toMatchObject({ errors: 5, requests: 1 });
  });
});

describe('retries of items', () => {
  it('sends only the retryable items again, after the longest of their waits, and puts their verdicts in place', async () => {
    const { sent, waits, emitted } = await run(entries(4), [
      (items) => ({
        ok: true,
        results: items.map((item, i) => (i === 1 ? itemError(item, 2) : i === 3 ? itemError(item, 5) : verdict(item))),
      }),
    ]);
    expect(waits).toEqual([5000]);
    expect(sent[1]).toEqual([
      { md5: 'm1', name: 'n1' },
      { md5: 'm3', name: 'n3' },
    ]);
    expect(emitted.map((result) => (result as { md5: string }).md5)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(emitted.every((result) => (result as { verdict?: string }).verdict === 'signed')).toBe(true);
  });

  it('an item error without retryAfterSeconds waits 1 s; one that is not retryable is kept as it is', async () => {
    const { waits, sent, emitted, summary } = await run(entries(2), [
      (items) => ({
        ok: true,
        results: [itemError(items[0]), { ...(items[1] as object), error: { status: 400, code: 'INVALID_REQUEST', retryable: false } }],
      }),
    ]);
    expect(waits).toEqual([1000]);
    expect(sent[1]).toEqual([{ md5: 'm0', name: 'n0' }]);
    expect(emitted[1]).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    expect(summary).toMatchObject({ signed: 1, errors: 1 });
  });

  it('after --retries further requests the items keep their errors', async () => {
    const busy = (items: readonly unknown[]) => ({ ok: true as const, results: items.map((item) => itemError(item, 1)) });
    const { sent, waits, summary } = await run(entries(2), [busy, busy, busy], { retries: 2 });
    expect(sent).toHaveLength(3);
    expect(waits).toEqual([1000, 1000]);
    expect(summary).toMatchObject({ errors: 2, requests: 3, stoppedBy: undefined });
  });

  it(`an item wait over ${MAX_RETRY_WAIT_SECONDS} s is not waited for`, async () => {
    const { sent, waits, summary } = await run(entries(1), [
      (items) => ({ ok: true, results: items.map((item) => itemError(item, 3600)) }),
    ]);
    expect(sent).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(summary.errors).toBe(1);
  });
});

describe('order and counts', () => {
  it('malformed lines keep their place between answered items, and progress reaches every line', async () => {
    const input: InputEntry[] = [{ kind: 'malformed', line: 1, detail: 'x' }, ...entries(2), { kind: 'malformed', line: 9, detail: 'y' }];
    const progress: number[] = [];
    const { emitted, summary } = await run(input, [], { onProgress: (done) => progress.push(done) });
    expect(emitted).toMatchObject([{ line: 1, error: { code: 'INVALID_INPUT_LINE' } }, { md5: 'm0' }, { md5: 'm1' }, { line: 9 }]);
    expect(progress.at(-1)).toBe(4);
    expect(summary).toMatchObject({ entries: 4, signed: 2, malformed: 2, errors: 2, requests: 1 });
  });
});
