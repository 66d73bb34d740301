import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { loadCacheSnapshot, saveCacheSnapshot, startSnapshotTimer } from '../signing/cache-snapshot.js';
import type { SignatureInterner } from '../signing/signature-interner.js';
import type { VerdictBasis } from '../signing/verdict.js';
import type { VerdictCache } from '../signing/verdict-cache.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Present when CACHE_SNAPSHOT_FILE is set. */
    cacheSnapshots?: CacheSnapshots;
  }
}

export interface CacheSnapshots {
  /**
   * Writes the shutdown snapshot, once: the close calls it after the last
   * request, and server.ts calls it when the grace runs out and the close is
   * still waiting, so a forced exit still leaves a warm file. Never rejects.
   */
  writeFinal(): Promise<void>;
}

export interface CacheSnapshotsOptions {
  cache: VerdictCache;
  /** Which CB_VERDICT_SOURCE made the entries: written into the file, checked when it is read. */
  basis: VerdictBasis;
  /** The live reads' interner: restored signatures are shared with them. */
  interner: SignatureInterner;
  /** CACHE_SNAPSHOT_FILE. */
  file: string;
  /** CACHE_SNAPSHOT_INTERVAL_SECONDS; 0 writes only at shutdown. */
  intervalSeconds: number;
  /** How long past its lifetime an entry is still worth restoring, in ms. */
  staleWindowMs: number;
}

/**
 * Warm restarts: the cache is restored from the snapshot after listening
 * (readiness waits for it), written every interval, and written once more
 * after the last request.
 */
async function cacheSnapshotsPlugin(app: FastifyInstance, options: CacheSnapshotsOptions): Promise<void> {
  const { cache, basis, interner, file, intervalSeconds, staleWindowMs } = options;
  const writeNow = async (): Promise<void> => {
    const started = performance.now();
    const entries = await saveCacheSnapshot(cache, file, basis);
    app.log.info({ file, entries, durationMs: Math.round(performance.now() - started) }, 'cache snapshot written');
  };

  let stopTimer = async (): Promise<void> => {};
  let restored: Promise<unknown> = Promise.resolve();
  app.lifecycle.holdReadinessFor(async () => {
    restored = loadCacheSnapshot(cache, file, app.log, { staleWindowMs, basis, interner });
    await restored;
    stopTimer = startSnapshotTimer(intervalSeconds, writeNow, app.log);
  });

  let final: Promise<void> | undefined;
  const writeFinal = (): Promise<void> =>
    (final ??= (async () => {
      // A restore still running would overwrite the cache after the final save: let it finish first.
      await restored;
      await stopTimer();
      await writeNow();
    })().catch((err: unknown) => app.log.error({ err, file }, 'cache snapshot not written at shutdown')));

  app.decorate('cacheSnapshots', { writeFinal } satisfies CacheSnapshots);
  app.addHook('onClose', async () => writeFinal());
}

export const cacheSnapshots = fp(cacheSnapshotsPlugin, { name: 'signet-cache-snapshots', dependencies: ['signet-lifecycle'] });
