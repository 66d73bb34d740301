/**
 * Collects misses that arrive close together into one upstream call, for a
 * backend whose search answers many binaries at once: Carbon Black Cloud (one
 * search job for `process_hash:(h1 OR h2 ...)`) and Carbon Black EDR (one
 * binary search for `md5:A OR md5:B ...`). A storm of distinct misses then
 * costs a few calls, not one each: what keeps a rate-limited Cloud key inside
 * its budget, and what lets EDR's few upstream slots answer many misses each.
 *
 * The first miss opens a batch and a short window. The batch is handed to
 * `run` when the window closes or when it holds `maxBatch` keys, whichever
 * comes first; but it is sealed only when `run`'s guarded call actually
 * starts (it calls `seal()` once it holds an upstream slot). Until then it
 * keeps taking keys while it waits in the guard's queue, so under saturation
 * batches fill themselves while waiting for a slot, and an idle service still
 * sends a lone miss after at most the window (at once, with `idle`, when
 * nothing is upstream at all). A full batch takes no more keys:
 * the next miss opens a new batch. A key already waiting in the open batch
 * shares its result. Coalescing of one key across batches is the cache's job
 * (one load per key), so a key reaches here once per load.
 */

export interface MissBatcherOptions<V> {
  /** Most keys in one call (CB_BATCH_MAX_HASHES); 1 sends each miss alone, at once. */
  maxBatch: number;
  /** How long the first miss of a batch waits for others before the batch queues for a slot, in milliseconds (CB_BATCH_WINDOW_MS). */
  windowMs: number;
  /**
   * One upstream call for a batch. `seal()` fixes and returns the batch's
   * distinct keys: call it when the request is about to be sent (holding a
   * slot); later calls (a retry) return the same keys. Resolves a map holding
   * an answer for each key it found; a key absent from the map has none
   * (resolved as undefined). A rejection fails every waiter of the batch,
   * including one that joined before a rejection that came without any call
   * (queue full, breaker open).
   */
  run: (seal: () => readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Told of every batch sealed for sending, with its key count (metrics). */
  onBatch?: (size: number) => void;
  /**
   * Asked when a miss opens a batch: true when nothing is in flight or queued
   * upstream, so there is no one to wait with and the window would only delay
   * the miss. Such a batch is handed to `run` at once (it still takes whatever
   * joins before its slot is granted). Absent: every batch waits its window,
   * for a backend whose requests are dear (Cloud's budget).
   */
  idle?: () => boolean;
}

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/** One batch: its keys with everyone waiting for each, and where it is in its life. */
interface Batch<V> {
  waiters: Map<string, Waiter<V>[]>;
  /** Handed to `run` (window over, or full). */
  submitted: boolean;
  /** The key list, once fixed: by `seal()`, or when the call settles without having sealed. */
  keys: readonly string[] | undefined;
}

export class MissBatcher<V> {
  readonly #maxBatch: number;
  readonly #windowMs: number;
  readonly #run: MissBatcherOptions<V>['run'];
  readonly #onBatch: ((size: number) => void) | undefined;
  readonly #idle: (() => boolean) | undefined;
  /** The batch new keys join: not sealed, not full. At most one at a time. */
  #open: Batch<V> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MissBatcherOptions<V>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('MissBatcher maxBatch must be an integer >= 1');
    if (!(options.windowMs >= 0)) throw new RangeError('MissBatcher windowMs must be >= 0');
    this.#maxBatch = options.maxBatch;
    this.#windowMs = options.windowMs;
    this.#run = options.run;
    this.#onBatch = options.onBatch;
    this.#idle = options.idle;
  }

  /** The answer for `key` (undefined: the upstream has none), from the batch it joins. */
  load(key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      let batch = this.#open;
      let opened = false;
      if (batch === undefined) {
        batch = { waiters: new Map(), submitted: false, keys: undefined };
        this.#open = batch;
        opened = true;
      }
      const waiters = batch.waiters.get(key);
      if (waiters !== undefined) {
        waiters.push({ resolve, reject });
        return;
      }
      batch.waiters.set(key, [{ resolve, reject }]);
      if (batch.waiters.size >= this.#maxBatch) {
        // Full: no more keys, and no reason to wait out the window.
        this.#close(batch);
        if (!batch.submitted) this.#submit(batch);
      } else if (opened && this.#idle?.() === true) {
        // Nothing upstream to wait with: go now; misses that follow at once still join until the slot is granted.
        this.#submit(batch);
      } else if (!batch.submitted && this.#timer === undefined) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          const open = this.#open;
          if (open !== undefined && !open.submitted) this.#submit(open);
        }, this.#windowMs);
      }
    });
  }

  /** Stops `batch` taking keys (full, sealed or settled); the next miss opens a new one. */
  #close(batch: Batch<V>): void {
    if (this.#open !== batch) return;
    this.#open = undefined;
    if (!batch.submitted) {
      // The window timer belongs to the open, unsubmitted batch: it would only submit this one early.
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** The key list, fixed the first time; later calls (retries) get the same list. */
  #seal(batch: Batch<V>): readonly string[] {
    if (batch.keys === undefined) {
      this.#close(batch);
      batch.keys = [...batch.waiters.keys()];
      this.#onBatch?.(batch.keys.length);
    }
    return batch.keys;
  }

  /** Hands the batch to `run`; it keeps taking keys until its call seals it. */
  #submit(batch: Batch<V>): void {
    batch.submitted = true;
    let call: Promise<ReadonlyMap<string, V>>;
    try {
      call = this.#run(() => this.#seal(batch));
    } catch (error) {
      call = Promise.reject(error as Error);
    }
    call.then(
      (answers) => {
        this.#close(batch);
        if (batch.keys === undefined) {
          // `run` answered without asking: an absent key would read as "no record", a wrong verdict.
          const error = new Error('MissBatcher run resolved without sealing its batch');
          for (const waiters of batch.waiters.values()) for (const waiter of waiters) waiter.reject(error);
          return;
        }
        for (const [key, waiters] of batch.waiters) {
          const answer = answers.get(key);
          for (const waiter of waiters) waiter.resolve(answer);
        }
      },
      (error: unknown) => {
        // Sealed or not (a refusal before any call), this batch's waiters, and only they, get the error.
        this.#close(batch);
        for (const waiters of batch.waiters.values()) for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
