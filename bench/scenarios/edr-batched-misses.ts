import { populationMd5, populationName } from '../../src/simulator/population.js';
import type { BenchContext } from '../lib/context.js';
import { driveEachKeepingBodies } from '../lib/drive.js';
import { getJson } from '../lib/http.js';
import type { Figure, ScenarioResult } from '../lib/report.js';
import type { Signet, Simulator } from '../lib/services.js';
import { startSignet, startSimulator } from '../lib/services.js';
import { median, ratio } from '../lib/stats.js';

/**
 * Scenario 9: EDR misses batched upstream. The same simulator as scenario 3
 * (fixed 50 ms latency) and the same CB_MAX_CONCURRENCY=8, so one md5 per
 * request can do at most 8 / 0.05 s = 160 misses a second. With the defaults
 * (CB_BINARY_READ=search, CB_BATCH_MAX_HASHES=50, CB_BATCH_WINDOW_MS at EDR's
 * 2 ms) misses that arrive together share one binary search
 * (`md5:A OR md5:B ...`), and a batch waiting for a slot keeps filling, so
 * enough callers (512) fill every search.
 *
 * Each round asks `batchedMd5s` distinct never-cached md5s once each (every
 * tenth one unknown to the simulator, so that "no row" is exercised too).
 * Judged: misses/s against the one-md5 ceiling; invariants: the simulator's
 * peak in flight <= 8, and every verdict identical (body minus checkedAt and
 * cache) to the one a second Signet with CB_BATCH_MAX_HASHES=1 gives for the
 * same md5s (that reference runs with more slots only to finish sooner: its
 * answers are still one md5 per request).
 *
 * Then a lone miss on the idle batched Signet, one at a time: its latency
 * against the same search asked of the simulator directly (Signet's own cost,
 * plus the window if the miss waited for one: on EDR a miss that finds nothing
 * upstream goes at once), with the one-md5 Signet's lone miss beside it.
 */

export const TARGET_TIMES_CEILING = 5;
export const TARGET_LONE_EXTRA_MS = 5;
/** The reference Signet's slots: many, so 4000 one-md5 searches of 50 ms take seconds, not 25 s. */
const REFERENCE_CONCURRENCY = 64;
/** Unmeasured lone misses first: JIT, and the connections of each side. */
const LONE_WARMUP = 5;

interface BatchedRound {
  missesPerSecond: number;
  elapsedMs: number;
  searches: number;
  md5sPerSearch: number;
  peakInFlight: number;
  referencePeakInFlight: number;
  mismatches: number;
  p50Ms: number;
  p99Ms: number;
}

/** Round r's md5 indexes: distinct across rounds; every tenth beyond the population, so unknown to the simulator. */
function roundIndexes(round: number, count: number, population: number): number[] {
  return Array.from({ length: count }, (_, k) => (k % 10 === 9 ? population + round * count + k : round * count + k));
}

/** A verdict body without what differs from one lookup to the next (when it was checked, how the cache served it). */
function verdictText(status: number, body: string): string {
  try {
    const { checkedAt: _checkedAt, cache: _cache, ...verdict } = JSON.parse(body) as Record<string, unknown>;
    return JSON.stringify({ status, ...verdict });
  } catch {
    return JSON.stringify({ status, body });
  }
}

async function timed(url: string, headers: Record<string, string>): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await getJson(url, headers);
  return { ms: performance.now() - started, status: response.status };
}

export async function runEdrBatchedMisses(ctx: BenchContext): Promise<ScenarioResult> {
  const s = ctx.settings;
  const started = performance.now();
  const ceiling = s.cbMaxConcurrency / (s.cbLatencyMs / 1000);
  const population = s.batchedMd5s * s.batchedRounds;
  let simulator: Simulator | undefined;
  let batched: Signet | undefined;
  let reference: Signet | undefined;
  try {
    simulator = await startSimulator({ population, latencyMs: s.cbLatencyMs });
    const cbUrl = simulator.url;
    const cbToken = simulator.token;
    batched = await startSignet({ cbUrl, cbToken, label: 'edr-batched', env: { CB_MAX_CONCURRENCY: String(s.cbMaxConcurrency) } });
    reference = await startSignet({
      cbUrl,
      cbToken,
      label: 'edr-one-by-one',
      env: { CB_MAX_CONCURRENCY: String(REFERENCE_CONCURRENCY), CB_BATCH_MAX_HASHES: '1' },
    });

    const rounds: BatchedRound[] = [];
    for (let round = 0; round < s.batchedRounds; round++) {
      const indexes = roundIndexes(round, s.batchedMd5s, population);
      const paths = indexes.map((i) => `/v1/signatures/${populationMd5(i)}?name=${encodeURIComponent(populationName(i))}`);

      await simulator.resetStats();
      const { result, answers } = await driveEachKeepingBodies(batched.url, paths, { authorization: batched.lookupAuth }, s.batchedCallers);
      const stats = await simulator.stats();
      if ((result.statuses['200'] ?? 0) !== paths.length) {
        throw new Error(`EDR batched misses round ${round + 1}: statuses ${JSON.stringify(result.statuses)}`);
      }
      const misses = result.cacheStatuses.miss ?? 0;

      await simulator.resetStats();
      const one = await driveEachKeepingBodies(reference.url, paths, { authorization: reference.lookupAuth }, REFERENCE_CONCURRENCY);
      const referenceStats = await simulator.stats();
      let mismatches = 0;
      answers.forEach((answer, k) => {
        const expected = one.answers[k]!;
        if (verdictText(answer.status, answer.body) !== verdictText(expected.status, expected.body)) mismatches++;
      });
      if (referenceStats.binarySearches !== paths.length) {
        throw new Error(`the one-md5 reference made ${referenceStats.binarySearches} searches for ${paths.length} md5s`);
      }

      rounds.push({
        missesPerSecond: misses / (result.elapsedMs / 1000),
        elapsedMs: result.elapsedMs,
        searches: stats.binarySearches,
        md5sPerSearch: paths.length / stats.binarySearches,
        peakInFlight: stats.peakInFlight,
        referencePeakInFlight: referenceStats.peakInFlight,
        mismatches,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
      });
      const r = rounds.at(-1)!;
      ctx.log(
        `  round ${round + 1}/${s.batchedRounds}: ${Math.round(r.missesPerSecond)} misses/s, ${r.searches} searches (${r.md5sPerSearch.toFixed(1)} md5s each), peak ${r.peakInFlight} in flight, p50 ${r.p50Ms.toFixed(0)} ms p99 ${r.p99Ms.toFixed(0)} ms, ${r.mismatches} verdicts differing from one by one`,
      );
    }

    // Lone misses: idle processes, one request at a time, each side asked the same never-cached md5.
    const lone = { batched: [] as number[], reference: [] as number[], direct: [] as number[] };
    const loneFirst = population * 2 + s.batchedMd5s;
    for (let k = 0; k < LONE_WARMUP + s.loneMisses; k++) {
      const i = loneFirst + k;
      const md5 = populationMd5(i);
      const signetPath = `/v1/signatures/${md5}?name=x`;
      const directUrl = `${simulator.url}/api/v1/binary?${new URLSearchParams({ q: `md5:${md5.toUpperCase()}`, rows: '1', start: '0' }).toString()}`;
      // Alternating the order spreads drift over the three sides.
      const order = k % 2 === 0 ? (['batched', 'reference', 'direct'] as const) : (['direct', 'reference', 'batched'] as const);
      for (const side of order) {
        const answer =
          side === 'direct'
            ? await timed(directUrl, { 'x-auth-token': simulator.token })
            : await timed(`${(side === 'batched' ? batched : reference).url}${signetPath}`, {
                authorization: (side === 'batched' ? batched : reference).lookupAuth,
              });
        if (answer.status !== 200) throw new Error(`lone miss (${side}) answered ${answer.status}`);
        if (k >= LONE_WARMUP) lone[side].push(answer.ms);
      }
    }
    const loneBatched = median(lone.batched);
    const loneDirect = median(lone.direct);
    const loneReference = median(lone.reference);
    const loneExtra = loneBatched - loneDirect;

    const missesPerSecond = median(rounds.map((r) => r.missesPerSecond));
    const times = ratio(missesPerSecond, ceiling);
    const peak = Math.max(...rounds.map((r) => r.peakInFlight));
    const mismatches = rounds.reduce((sum, r) => sum + r.mismatches, 0);
    const scenario = '9 EDR batched misses';
    const figures: Figure[] = [
      {
        scenario,
        figure: 'misses/s',
        unit: '/s',
        value: missesPerSecond,
        baseline: ceiling,
        baselineLabel: 'one-md5 ceiling',
        ratio: times,
        target: `>= ${TARGET_TIMES_CEILING} x ceiling`,
        met: times >= TARGET_TIMES_CEILING,
        rounds: rounds.map((r) => r.missesPerSecond),
      },
      {
        scenario,
        figure: 'md5s per search',
        unit: '',
        value: median(rounds.map((r) => r.md5sPerSearch)),
        rounds: rounds.map((r) => r.md5sPerSearch),
        note: 'mean over each round: md5s asked / binary searches the simulator received',
      },
      {
        scenario,
        figure: 'peak upstream in flight',
        unit: '',
        value: peak,
        baseline: s.cbMaxConcurrency,
        baselineLabel: 'bound',
        ratio: ratio(peak, s.cbMaxConcurrency),
        target: `<= ${s.cbMaxConcurrency}`,
        met: peak <= s.cbMaxConcurrency,
        invariant: true,
        rounds: rounds.map((r) => r.peakInFlight),
      },
      {
        scenario,
        figure: 'verdicts differing from one by one',
        unit: '',
        value: mismatches,
        baseline: s.batchedMd5s * s.batchedRounds,
        baselineLabel: 'verdicts compared',
        target: '= 0',
        met: mismatches === 0,
        invariant: true,
        rounds: rounds.map((r) => r.mismatches),
      },
      {
        scenario,
        figure: 'lone miss extra latency',
        unit: 'ms',
        value: loneExtra,
        baseline: loneDirect,
        baselineLabel: 'direct search',
        ratio: ratio(loneBatched, loneDirect),
        target: `<= ${TARGET_LONE_EXTRA_MS} ms extra`,
        met: loneExtra <= TARGET_LONE_EXTRA_MS,
        rounds: lone.batched,
        baselineRounds: lone.direct,
        note: 'median lone miss on the idle batched Signet minus the same search asked of the simulator directly',
      },
      {
        scenario,
        figure: 'lone miss latency',
        unit: 'ms',
        value: loneBatched,
        baseline: loneReference,
        baselineLabel: 'CB_BATCH_MAX_HASHES=1',
        ratio: ratio(loneBatched, loneReference),
        rounds: lone.batched,
        baselineRounds: lone.reference,
        note: 'what the collection window costs a lone miss',
      },
    ];
    return {
      id: 'edr-batched-misses',
      title: scenario,
      durationMs: Math.round(performance.now() - started),
      figures,
      notes: [
        `Simulator latency ${s.cbLatencyMs} ms, CB_MAX_CONCURRENCY=${s.cbMaxConcurrency}, batching defaults: one-md5 ceiling ${ceiling}/s. ${s.batchedRounds} rounds of ${s.batchedMd5s} distinct uncached md5s (every tenth unknown), ${s.batchedCallers} callers; verdicts compared with a Signet at CB_BATCH_MAX_HASHES=1 (CB_MAX_CONCURRENCY=${REFERENCE_CONCURRENCY}). Lone misses: ${s.loneMisses} sequential, each side the same md5.`,
      ],
      raw: { rounds, lone, ceiling },
    };
  } finally {
    await batched?.child.stop();
    await reference?.child.stop();
    await simulator?.child.stop();
  }
}
