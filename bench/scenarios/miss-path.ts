import { populationMd5, populationName } from '../../src/simulator/population.js';
import { cpuTimeMs } from '../lib/children.js';
import type { BenchContext } from '../lib/context.js';
import type { DriveResult } from '../lib/drive.js';
import { driveEach } from '../lib/drive.js';
import type { ScenarioResult } from '../lib/report.js';
import type { Signet, Simulator } from '../lib/services.js';
import { startSignet, startSimulator } from '../lib/services.js';
import { median, ratio } from '../lib/stats.js';

/**
 * Scenario 3: the miss path. The simulator answers every search after a fixed
 * latency; Signet may have CB_MAX_CONCURRENCY searches in flight, so it can do
 * at most concurrency / latency misses a second (8 / 0.05 s = 160/s). Each
 * round asks `missMd5s` distinct, never-cached md5s once each, with many more
 * callers than upstream slots, and reads the simulator's peak concurrency.
 *
 * It measures one md5 per request: Signet runs with CB_BATCH_MAX_HASHES=1,
 * since batched misses share searches and pass this ceiling by design
 * (scenario 9, edr-batched-misses, measures that).
 *
 * Side by side in the same rounds: `concurrency` clients asking the simulator
 * directly (the same one-md5 binary searches Signet sends, no Signet), what
 * the ceiling is in practice on this machine.
 */

export const TARGET_FRACTION_OF_CEILING = 0.9;

/** Polls the simulator's in-flight count every `intervalMs` until stopped; resolves to its mean. */
function sampleInFlight(simulator: Simulator, intervalMs = 10): { stop(): Promise<number> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push((await simulator.stats()).inFlight);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      // The last samples fall after the last search ended; the first, before the first began.
      const busy = samples.slice(1, -1);
      return busy.length === 0 ? Number.NaN : busy.reduce((a, b) => a + b, 0) / busy.length;
    },
  };
}

export async function runMissPath(ctx: BenchContext): Promise<ScenarioResult> {
  const s = ctx.settings;
  const started = performance.now();
  const ceiling = s.cbMaxConcurrency / (s.cbLatencyMs / 1000);
  let simulator: Simulator | undefined;
  let signet: Signet | undefined;
  try {
    simulator = await startSimulator({ population: s.missMd5s * s.missRounds, latencyMs: s.cbLatencyMs });
    signet = await startSignet({
      cbUrl: simulator.url,
      cbToken: simulator.token,
      label: 'miss-path',
      env: { CB_MAX_CONCURRENCY: String(s.cbMaxConcurrency), CB_BATCH_MAX_HASHES: '1' },
    });

    const signetRounds: (DriveResult & {
      missesPerSecond: number;
      peakInFlight: number;
      meanInFlight: number;
      signetCpuMsPerMiss: number;
      simulatorCpuMsPerSearch: number;
      upstreamSearches: number;
    })[] = [];
    const directRounds: (DriveResult & { searchesPerSecond: number; peakInFlight: number })[] = [];
    for (let round = 0; round < s.missRounds; round++) {
      const first = round * s.missMd5s;
      const indexes = Array.from({ length: s.missMd5s }, (_, k) => first + k);

      // Directly: the simulator has no cache, so asking it the round's md5s first changes nothing for Signet.
      await simulator.resetStats();
      const directPaths = indexes.map((i) => {
        const q = `md5:${populationMd5(i).toUpperCase()}`;
        return `/api/v1/binary?${new URLSearchParams({ q, rows: '1', start: '0' }).toString()}`;
      });
      const direct = await driveEach(simulator.url, directPaths, { 'x-auth-token': simulator.token }, s.cbMaxConcurrency);
      const directStats = await simulator.stats();
      directRounds.push({
        ...direct,
        searchesPerSecond: (direct.statuses['200'] ?? 0) / (direct.elapsedMs / 1000),
        peakInFlight: directStats.peakInFlight,
      });

      await simulator.resetStats();
      const paths = indexes.map((i) => `/v1/signatures/${populationMd5(i)}?name=${encodeURIComponent(populationName(i))}`);
      const sampler = sampleInFlight(simulator);
      const cpuBefore = { signet: cpuTimeMs(signet.child.process.pid), simulator: cpuTimeMs(simulator.child.process.pid) };
      const result = await driveEach(signet.url, paths, { authorization: signet.lookupAuth }, s.missConcurrency);
      const signetCpuMsPerMiss = (cpuTimeMs(signet.child.process.pid) - cpuBefore.signet) / paths.length;
      const simulatorCpuMsPerSearch = (cpuTimeMs(simulator.child.process.pid) - cpuBefore.simulator) / paths.length;
      const meanInFlight = await sampler.stop();
      const stats = await simulator.stats();
      const misses = result.cacheStatuses.miss ?? 0;
      if ((result.statuses['200'] ?? 0) !== paths.length) {
        throw new Error(`miss path round ${round + 1}: statuses ${JSON.stringify(result.statuses)}`);
      }
      signetRounds.push({
        ...result,
        missesPerSecond: misses / (result.elapsedMs / 1000),
        peakInFlight: stats.peakInFlight,
        meanInFlight,
        signetCpuMsPerMiss,
        simulatorCpuMsPerSearch,
        upstreamSearches: stats.upstreamRequests,
      });
      ctx.log(
        `  round ${round + 1}/${s.missRounds} direct ${Math.round(directRounds.at(-1)!.searchesPerSecond)}/s, signet ${Math.round(signetRounds.at(-1)!.missesPerSecond)} misses/s, peak ${stats.peakInFlight}, mean ${meanInFlight.toFixed(2)} in flight, Signet CPU ${signetCpuMsPerMiss.toFixed(2)} ms/miss (simulator ${simulatorCpuMsPerSearch.toFixed(2)} ms/search), ${stats.upstreamRequests} Carbon Black requests, ${JSON.stringify(result.cacheStatuses)}`,
      );
    }

    const missesPerSecond = median(signetRounds.map((r) => r.missesPerSecond));
    const direct = median(directRounds.map((r) => r.searchesPerSecond));
    const peak = Math.max(...signetRounds.map((r) => r.peakInFlight));
    const fraction = ratio(missesPerSecond, ceiling);
    return {
      id: 'miss-path',
      title: '3 miss path',
      durationMs: Math.round(performance.now() - started),
      figures: [
        {
          scenario: '3 miss path',
          figure: 'misses/s',
          unit: '/s',
          value: missesPerSecond,
          baseline: ceiling,
          baselineLabel: 'ceiling',
          ratio: fraction,
          target: `>= ${TARGET_FRACTION_OF_CEILING} x ceiling`,
          met: fraction >= TARGET_FRACTION_OF_CEILING,
          rounds: signetRounds.map((r) => r.missesPerSecond),
        },
        {
          scenario: '3 miss path',
          figure: 'misses/s vs direct',
          unit: '/s',
          value: missesPerSecond,
          baseline: direct,
          baselineLabel: `direct, ${s.cbMaxConcurrency} conns`,
          ratio: ratio(missesPerSecond, direct),
          rounds: signetRounds.map((r) => r.missesPerSecond),
          baselineRounds: directRounds.map((r) => r.searchesPerSecond),
        },
        {
          scenario: '3 miss path',
          figure: 'mean upstream in flight',
          unit: '',
          value: median(signetRounds.map((r) => r.meanInFlight)),
          baseline: s.cbMaxConcurrency,
          baselineLabel: 'bound',
          ratio: ratio(median(signetRounds.map((r) => r.meanInFlight)), s.cbMaxConcurrency),
          rounds: signetRounds.map((r) => r.meanInFlight),
          note: 'how busy Signet keeps its upstream slots (sampled every 10 ms)',
        },
        {
          scenario: '3 miss path',
          figure: 'Signet CPU per miss',
          unit: 'ms',
          value: median(signetRounds.map((r) => r.signetCpuMsPerMiss)),
          baseline: median(signetRounds.map((r) => r.simulatorCpuMsPerSearch)),
          baselineLabel: 'simulator per search',
          ratio: ratio(median(signetRounds.map((r) => r.signetCpuMsPerMiss)), median(signetRounds.map((r) => r.simulatorCpuMsPerSearch))),
          rounds: signetRounds.map((r) => r.signetCpuMsPerMiss),
          baselineRounds: signetRounds.map((r) => r.simulatorCpuMsPerSearch),
        },
        {
          scenario: '3 miss path',
          figure: 'peak upstream in flight',
          unit: '',
          value: peak,
          baseline: s.cbMaxConcurrency,
          baselineLabel: 'bound',
          ratio: ratio(peak, s.cbMaxConcurrency),
          target: `<= ${s.cbMaxConcurrency}`,
          met: peak <= s.cbMaxConcurrency,
          invariant: true,
          rounds: signetRounds.map((r) => r.peakInFlight),
        },
      ],
      notes: [
        `Simulator latency ${s.cbLatencyMs} ms, CB_MAX_CONCURRENCY=${s.cbMaxConcurrency}, CB_BATCH_MAX_HASHES=1 (one md5 per request): ceiling ${ceiling}/s. ${s.missRounds} rounds of ${s.missMd5s} distinct uncached md5s, ${s.missConcurrency} callers; the direct baseline asks the simulator the same searches with ${s.cbMaxConcurrency} connections and no Signet.`,
      ],
      raw: { signetRounds, directRounds, ceiling },
    };
  } finally {
    await signet?.child.stop();
    await simulator?.child.stop();
  }
}
