import type { HashKind, VerdictSource } from '../../signing/signature-service.js';
import type { SignatureInterner } from '../../signing/signature-interner.js';
import { UnknownBinary } from '../../signing/verdict.js';
import { AliasedVerdict, type LoadedVerdict } from '../../signing/verdict-cache.js';
import { MissBatcher } from '../../upstream/miss-batcher.js';
import type { CloudBinarySigning } from './binary-signing.js';
import { assessPublisherStates } from './publisher-state.js';

/** Cloud indexes processes by both hashes of their binary. */
const BOTH_HASHES: ReadonlySet<HashKind> = new Set(['md5', 'sha256']);

export interface CloudVerdictSourceOptions {
  /**
   * One guarded search job for a batch (through the guard: bound, queue,
   * retries, breaker, deadline). `seal()` gives the batch's hashes: call it
   * when the job is about to be created (holding a slot), so the batch takes
   * misses until then. Resolves the signing of every hash Cloud has a process
   * for; a hash absent from the map has none.
   */
  search: (seal: () => readonly string[]) => Promise<ReadonlyMap<string, CloudBinarySigning>>;
  /** CB_BATCH_MAX_HASHES: most hashes one job asks for. */
  batchMaxHashes: number;
  /** CB_BATCH_WINDOW_MS: how long the first miss of a batch waits for others before it queues for a slot. */
  batchWindowMs: number;
  interner: SignatureInterner;
  /** Told of every job's hash count (metrics). */
  onBatch?: (size: number) => void;
}

/**
 * The Cloud backend's answer to a miss: the miss joins a batch (misses that
 * arrive together share one search job), the job's rows for its hash become a
 * verdict by the publisher-state rule (publisher-state.ts), and the binary's
 * other hash comes back as an alias, so a later lookup by the md5 or the
 * sha256 is a hit. No process with the hash is `unknown`.
 */
export function cloudVerdictSource(options: CloudVerdictSourceOptions): VerdictSource {
  const { interner } = options;
  const batcher = new MissBatcher<CloudBinarySigning>({
    maxBatch: options.batchMaxHashes,
    windowMs: options.batchWindowMs,
    run: options.search,
    ...(options.onBatch && { onBatch: options.onBatch }),
  });
  return {
    basis: 'cloud-process-search',
    hashKinds: BOTH_HASHES,
    indexNote: 'Carbon Black Cloud indexes md5 and sha256',
    // Cloud's signature data names no program, so the caller's name decides nothing.
    nameTested: false,
    load: async (hash): Promise<LoadedVerdict> => {
      const signing = await batcher.load(hash);
      if (signing === undefined) return UnknownBinary.instance;
      const { kind, decisive } = assessPublisherStates(signing.states);
      const entry = interner.stated(kind, decisive, signing.publishers[0] ?? null, signing.states, 'cloud-process-search');
      const aliases = [signing.md5, signing.sha256].filter((other): other is string => other !== null && other !== hash);
      return aliases.length === 0 ? entry : new AliasedVerdict(entry, aliases);
    },
  };
}
