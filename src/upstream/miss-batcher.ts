/**
 * Collects misses that arrive close together into one upstream call, for a
 * backend whose search answers many binaries at once (Carbon Black Cloud: one
 * search job for `process_hash:(h1 OR h2 ...)`). A storm of distinct misses
 * then costs a few calls, not one each, which is what keeps a rate-limited
 * API key inside its budget.
 *
 * The first miss opens a batch and a short window; the batch goes when the
 * window closes or when it holds `maxBatch` keys, whichever comes first. A
 * key already waiting in the open batch shares its result. Coalescing of one
 * key across batches is the cache's job (one load per key), so a key reaches
 * here once per load.
 */

export interface MissBatcherOptions<V> {
  /** Most keys in one call (CB_BATCH_MAX_HASHES). */
  maxBatch: number;
  /** How long the first miss of a batch waits for others, in milliseconds (CB_BATCH_WINDOW_MS); 0 sends each alone. */
  windowMs: number;
  /**
   * One upstream call for these distinct keys. Resolves a map holding an
   * answer for each key it found; a key absent from the map has none
   * (resolved as undefined). A rejection fails every key of the batch.
   */
  run: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Told of every batch sent (metrics). */
  onBatch?: (size: number) => void;
}

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

export class MissBatcher<V> {
  readonly #maxBatch: number;
  readonly #windowMs: number;
  readonly #run: MissBatcherOptions<V>['run'];
  readonly #onBatch: ((size: number) => void) | undefined;
  /** The open batch: each key with everyone waiting for it. */
  #open = new Map<string, Waiter<V>[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MissBatcherOptions<V>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('MissBatcher maxBatch must be an integer >= 1');
    if (!(options.windowMs >= 0)) throw new RangeError('MissBatcher windowMs must be >= 0');
    this.#maxBatch = options.maxBatch;
    this.#windowMs = options.windowMs;
    this.#run = options.run;
    this.#onBatch = options.onBatch;
  }

  /** The answer for `key` (undefined: the upstream has none), from the batch it joins. */
  load(key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      const waiters = this.#open.get(key);
      if (waiters !== undefined) {
        waiters.push({ resolve, reject });
        return;
      }
      this.#open.set(key, [{ resolve, reject }]);
      if (this.#open.size >= this.#maxBatch) {
        this.#flush();
      } else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.#windowMs);
      }
    });
  }

  /** Sends the open batch now (a full batch, the window's end, or shutdown). */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#open;
    if (batch.size === 0) return;
    this.#open = new Map();
    this.#onBatch?.(batch.size);
    const keys = [...batch.keys()];
    let call: Promise<ReadonlyMap<string, V>>;
    try {
      call = this.#run(keys);
    } catch (error) {
      call = Promise.reject(error as Error);
    }
    call.then(
      (answers) => {
        for (const [key, waiters] of batch) {
          const answer = answers.get(key);
          for (const waiter of waiters) waiter.resolve(answer);
        }
      },
      (error: unknown) => {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
