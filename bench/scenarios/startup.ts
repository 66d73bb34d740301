import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as BinaryRecordModule from '../../src/backends/edr/binary-record.js';
import type * as InternerModule from '../../src/signing/signature-interner.js';
import type * as VerdictCacheModule from '../../src/signing/verdict-cache.js';
import { buildBinaryRecord } from '../../src/simulator/binary-record.js';
import { PopulationBinary, populationMd5 } from '../../src/simulator/population.js';
import type { BenchContext } from '../lib/context.js';
import { target } from '../lib/context.js';
import { getJson } from '../lib/http.js';
import { DIST, ROOT, scratchDir } from '../lib/paths.js';
import type { Figure, ScenarioResult } from '../lib/report.js';
import type { Signet, Simulator } from '../lib/services.js';
import { startBare, startSignet, startSimulator } from '../lib/services.js';
import { median, ratio } from '../lib/stats.js';

/**
 * Scenario 6: time from spawning the process to the first 200 from /readyz
 * (polled every `startupPollMs`), for Signet with an empty cache and, when the
 * snapshot feature exists, with a `snapshotEntries`-entry CACHE_SNAPSHOT_FILE;
 * the baseline is a bare Fastify process started the same way, in the same rounds.
 */

type CachedVerdict = VerdictCacheModule.CachedVerdict;

/** What the bench needs from src/signing/cache-snapshot.ts (declared here: that module may not exist yet). */
interface SnapshotModule {
  writeSnapshot(
    file: string,
    entries: readonly { md5: string; storedAt: number; ttlMs: number; verdict: CachedVerdict }[],
    basis: 'binary-record',
  ): Promise<void>;
}

const SNAPSHOT_SOURCE = join(ROOT, 'src', 'signing', 'cache-snapshot.ts');
const SNAPSHOT_BUILT = join(DIST, 'signing', 'cache-snapshot.js');

async function snapshotModule(): Promise<SnapshotModule | undefined> {
  if (!existsSync(SNAPSHOT_SOURCE) || !existsSync(SNAPSHOT_BUILT)) return undefined;
  const module = (await import(pathToFileURL(SNAPSHOT_BUILT).href)) as Partial<SnapshotModule>;
  return typeof module.writeSnapshot === 'function' ? (module as SnapshotModule) : undefined;
}

/**
 * Entries as misses make them: the simulator's record of population entry i,
 * parsed by the built client's schema and interned by the built interner
 * (the snapshot writer checks entries with `instanceof` against dist's classes).
 */
async function writeBenchSnapshot(module: SnapshotModule, entries: number): Promise<{ file: string; bytes: number; ms: number }> {
  const started = performance.now();
  const now = Date.now();
  const { SignatureInterner } = (await import(pathToFileURL(join(DIST, 'signing', 'signature-interner.js')).href)) as typeof InternerModule;
  const { binaryRecordSchema } = (await import(
    pathToFileURL(join(DIST, 'backends', 'edr', 'binary-record.js')).href
  )) as typeof BinaryRecordModule;
  const interner = new SignatureInterner();
  const list = new Array<{ md5: string; storedAt: number; ttlMs: number; verdict: CachedVerdict }>(entries);
  for (let i = 0; i < entries; i++) {
    const verdict = interner.entryFor(binaryRecordSchema.parse(buildBinaryRecord(new PopulationBinary(i))));
    // Ages spread over the last hour, all still fresh.
    list[i] = { md5: populationMd5(i), storedAt: now - (i % 3600) * 1000, ttlMs: 86_400_000, verdict };
  }
  const file = join(scratchDir(), 'cache-snapshot.bin');
  await module.writeSnapshot(file, list, 'binary-record');
  return { file, bytes: statSync(file).size, ms: Math.round(performance.now() - started) };
}

async function cacheSize(signet: Signet): Promise<number> {
  const response = await getJson<{ size?: number }>(`${signet.url}/v1/cache`, { authorization: signet.adminAuth });
  return response.status === 200 && typeof response.body.size === 'number' ? response.body.size : -1;
}

export async function runStartup(ctx: BenchContext): Promise<ScenarioResult> {
  const s = ctx.settings;
  const started = performance.now();
  const notes: string[] = [];
  let simulator: Simulator | undefined;
  try {
    simulator = await startSimulator({ population: 0, latencyMs: 0 });
    const module = await snapshotModule();
    let snapshot: { file: string; bytes: number; ms: number } | undefined;
    if (module) {
      snapshot = await writeBenchSnapshot(module, s.snapshotEntries);
      ctx.log(`  wrote a ${s.snapshotEntries}-entry snapshot (${(snapshot.bytes / 2 ** 20).toFixed(1)} MiB) in ${snapshot.ms} ms`);
    } else {
      notes.push('No snapshot feature (src/signing/cache-snapshot.ts exporting writeSnapshot): the snapshot start-up is n/a.');
    }

    const common = { CACHE_MAX_ENTRIES: String(Math.max(s.snapshotEntries, 100_000)) };
    const runs: Record<'bare' | 'empty' | 'snapshot', number[]> = { bare: [], empty: [], snapshot: [] };
    const restored: number[] = [];
    const kinds: ('bare' | 'empty' | 'snapshot')[] = snapshot ? ['bare', 'empty', 'snapshot'] : ['bare', 'empty'];
    for (let round = 0; round < s.startupRounds; round++) {
      // Rotate the order, so that no kind always runs right after another's exit.
      const order = kinds.map((_, k) => kinds[(k + round) % kinds.length]!);
      for (const kind of order) {
        if (kind === 'bare') {
          const bare = await startBare(target(ctx, 'bare-fastify'), '{}', s.startupPollMs);
          runs.bare.push(bare.startupMs);
          await bare.child.stop('SIGKILL');
          continue;
        }
        const signet = await startSignet({
          cbUrl: simulator.url,
          cbToken: simulator.token,
          label: `startup-${kind}`,
          pollMs: s.startupPollMs,
          env: { ...common, ...(kind === 'snapshot' && snapshot ? { CACHE_SNAPSHOT_FILE: snapshot.file } : {}) },
        });
        runs[kind].push(signet.startupMs);
        if (kind === 'snapshot') restored.push(await cacheSize(signet));
        // SIGKILL: a graceful stop would write the snapshot back (and take time nobody measures).
        await signet.child.stop('SIGKILL');
      }
      ctx.log(`  round ${round + 1}/${s.startupRounds} ${kinds.map((k) => `${k} ${runs[k].at(-1)?.toFixed(0)} ms`).join(', ')}`);
    }

    const bare = median(runs.bare);
    const empty = median(runs.empty);
    const figures: Figure[] = [
      {
        scenario: '6 start-up',
        figure: 'to /readyz 200, empty cache',
        unit: 'ms',
        value: empty,
        baseline: bare,
        baselineLabel: 'bare',
        ratio: ratio(empty, bare),
        rounds: runs.empty,
        baselineRounds: runs.bare,
      },
    ];
    const label = `to /readyz 200, ${s.snapshotEntries.toLocaleString('en-US')}-entry snapshot`;
    const fullyRestored = restored.length > 0 && restored.every((n) => n >= s.snapshotEntries);
    if (snapshot && fullyRestored) {
      const withSnapshot = median(runs.snapshot);
      figures.push({
        scenario: '6 start-up',
        figure: label,
        unit: 'ms',
        value: withSnapshot,
        baseline: bare,
        baselineLabel: 'bare',
        ratio: ratio(withSnapshot, bare),
        rounds: runs.snapshot,
        baselineRounds: runs.bare,
        note: `restoring costs ${(withSnapshot - empty).toFixed(0)} ms over an empty start`,
      });
      notes.push(
        `Snapshot: ${(snapshot.bytes / 2 ** 20).toFixed(1)} MiB; the cache held ${restored.join(', ')} entries at the first /readyz 200; restoring adds ${(withSnapshot - empty).toFixed(0)} ms to an empty start.`,
      );
    } else {
      figures.push({ scenario: '6 start-up', figure: label, unit: 'ms', value: Number.NaN, note: 'n/a' });
      if (snapshot) {
        notes.push(
          `The snapshot was written with writeSnapshot, but at the first /readyz 200 the cache held ${restored.join(', ')} entries: this build does not restore CACHE_SNAPSHOT_FILE before it is ready (not wired yet?), so the figure is n/a.`,
        );
      }
    }
    notes.push(
      `CACHE_MAX_ENTRIES=${common.CACHE_MAX_ENTRIES} for every Signet start; /readyz polled every ${s.startupPollMs} ms on a new connection; ${s.startupRounds} rounds.`,
    );
    return {
      id: 'startup',
      title: '6 start-up',
      durationMs: Math.round(performance.now() - started),
      figures,
      notes,
      raw: { runs, restored, snapshot: snapshot && { bytes: snapshot.bytes, writeMs: snapshot.ms } },
    };
  } finally {
    await simulator?.child.stop();
  }
}
