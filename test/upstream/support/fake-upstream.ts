import { vi } from 'vitest';
import { CarbonBlackError, type CarbonBlackErrorCode } from '../../../src/backends/errors.js';
import type { GuardOptions, UpstreamEvent } from '../../../src/upstream/guarded-upstream.js';

/**
 * Test doubles for the upstream guard: a fake Carbon Black call whose every
 * invocation is a deferred promise the test settles, plus option and error
 * builders. No network, no wall clock.
 */

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One invocation of the fake call: its signal and the handle that settles it. */
export interface Invocation<T> extends Deferred<T> {
  signal: AbortSignal;
  /** Sequence number across the whole fake, from 0. */
  index: number;
  /** A label the test passed to `call(label)`, to tell lookups apart. */
  label: string;
}

/**
 * A fake Carbon Black request. `call(label)` makes an UpstreamCall; each time
 * the guard invokes it, an Invocation is recorded and stays pending until the
 * test settles it. It deliberately ignores its signal (like a stuck request)
 * so tests prove the guard does not rely on the call cooperating.
 */
export class FakeUpstream<T = boolean> {
  readonly invocations: Invocation<T>[] = [];
  executing = 0;
  maxExecuting = 0;

  call(label = ''): (signal: AbortSignal) => Promise<T> {
    return (signal) => {
      const d = deferred<T>();
      this.invocations.push({ ...d, signal, index: this.invocations.length, label });
      this.executing++;
      this.maxExecuting = Math.max(this.maxExecuting, this.executing);
      return d.promise.finally(() => {
        this.executing--;
      });
    };
  }

  get count(): number {
    return this.invocations.length;
  }

  /** The nth invocation; fails the test clearly if it never happened. */
  at(index: number): Invocation<T> {
    const invocation = this.invocations[index];
    if (invocation === undefined) {
      throw new Error(`expected invocation #${index}, only ${this.invocations.length} happened`);
    }
    return invocation;
  }

  labels(): string[] {
    return this.invocations.map((invocation) => invocation.label);
  }
}

/** A call that answers from a script, one entry per invocation (an Error is thrown). */
export function scripted<T>(script: ReadonlyArray<T | Error>): { call: (signal: AbortSignal) => Promise<T>; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    call: async (signal) => {
      const step = script[signals.length];
      signals.push(signal);
      if (step === undefined) throw new Error(`script exhausted after ${script.length} calls`);
      if (step instanceof Error) throw step;
      return step;
    },
  };
}

export function cbError(code: CarbonBlackErrorCode, upstreamStatus?: number, retryAfterMs?: number): CarbonBlackError {
  return new CarbonBlackError(code, `fake ${code}`, {
    ...(upstreamStatus === undefined ? {} : { upstreamStatus }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

export const serverError = (status = 503): CarbonBlackError => cbError('CB_SERVER_ERROR', status);

/** Production defaults, with no jitter wait (random 0) unless a test asks for it. */
export function guardOptions(overrides: Partial<GuardOptions> = {}): GuardOptions & { events: UpstreamEvent[] } {
  const events: UpstreamEvent[] = [];
  return {
    maxConcurrency: 8,
    maxQueue: 1000,
    retries: 2,
    deadlineMs: 15_000,
    breakerThreshold: 5,
    breakerCooldownMs: 10_000,
    baseBackoffMs: 100,
    maxBackoffMs: 2000,
    random: () => 0,
    onEvent: (event) => events.push(event),
    events,
    ...overrides,
  };
}

/** Lets every pending promise reaction run (fake timers are not advanced). */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Tracks how a promise settles without ever leaving a rejection unhandled. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; readonly value: T | undefined; readonly error: unknown } {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}
