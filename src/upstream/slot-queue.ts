/**
 * At most `maxConcurrency` Carbon Black requests at once, at most `maxQueue`
 * lookups waiting (FIFO) for one.
 *
 * Not cockatiel's BulkheadPolicy, because of its queue semantics (3.2.1,
 * checked against its source and by experiment):
 *  - a waiter whose signal aborts (our deadline) stays in the queue, holding
 *    a queue place, until a slot frees; under a storm expired lookups would
 *    make fresh ones look like overload;
 *  - when the dequeued waiter turns out to be aborted it is dropped without
 *    dequeuing the next one, so the slot stays free while live waiters stall
 *    (until some unrelated request happens to free another slot);
 *  - a freed slot is handed over a microtask later, so a newcomer can take it
 *    first and the dequeued waiter is re-queued at the back, or even refused
 *    with BulkheadRejectedError although it had been admitted.
 * Here an aborted waiter leaves the queue at once, and a freed slot passes
 * straight to the oldest waiter.
 */
export class SlotQueue {
  readonly #maxConcurrency: number;
  readonly #maxQueue: number;
  #active = 0;
  /** A Set iterates in insertion order (FIFO) and deletes in O(1), for waiters leaving on abort. */
  readonly #waiters = new Set<() => void>();

  constructor(maxConcurrency: number, maxQueue: number) {
    this.#maxConcurrency = maxConcurrency;
    this.#maxQueue = maxQueue;
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** Lookups waiting for a slot now. */
  get queued(): number {
    return this.#waiters.size;
  }

  /** Whether an acquire right now would be refused. */
  get full(): boolean {
    return this.#active >= this.#maxConcurrency && this.#waiters.size >= this.#maxQueue;
  }

  /**
   * Takes a slot, waiting in line if none is free. Returns undefined, without
   * queueing, when all slots are busy and the queue is full. The promise
   * rejects with the signal's reason if it aborts while waiting (the waiter
   * leaves the queue). Once it resolves the caller owns a slot and must
   * `release()` it exactly once.
   */
  acquire(signal: AbortSignal): Promise<void> | undefined {
    if (signal.aborted) {
      return Promise.reject(signal.reason);
    }
    // A newcomer only goes straight in when nobody is waiting (FIFO).
    if (this.#active < this.#maxConcurrency && this.#waiters.size === 0) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#waiters.size >= this.#maxQueue) {
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(grant);
        reject(signal.reason);
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.add(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Frees a slot: it passes directly to the oldest waiter, so `active` does not dip. */
  release(): void {
    for (const grant of this.#waiters) {
      this.#waiters.delete(grant);
      grant();
      return;
    }
    this.#active--;
  }
}
