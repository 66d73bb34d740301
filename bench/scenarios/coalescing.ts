import { populationMd5, populationName } from '../../src/simulator/population.js';
import type { BenchContext } from '../lib/context.js';
import type { DriveResult } from '../lib/drive.js';
import { driveBurst } from '../lib/drive.js';
import type { ScenarioResult } from '../lib/report.js';
import type { Signet, Simulator } from '../lib/services.js';
import { startSignet, startSimulator } from '../lib/services.js';
import { median, ratio } from '../lib/stats.js';

/**
 * Scenario 4: `coalesceRequests` concurrent lookups of one uncached md5 on a
 * fresh Signet must make exactly one upstream request. Side by side: one
 * lookup of another uncached md5 alone, the time a single miss takes.
 */

export async function runCoalescing(ctx: BenchContext): Promise<ScenarioResult> {
  const s = ctx.settings;
  const started = performance.now();
  let simulator: Simulator | undefined;
  let signet: Signet | undefined;
  try {
    simulator = await startSimulator({ population: 2 * s.coalesceRounds, latencyMs: s.cbLatencyMs });
    signet = await startSignet({
      cbUrl: simulator.url,
      cbToken: simulator.token,
      label: 'coalescing',
      env: { CB_MAX_CONCURRENCY: String(s.cbMaxConcurrency) },
    });
    const headers = { authorization: signet.lookupAuth };
    const pathOf = (i: number) => `/v1/signatures/${populationMd5(i)}?name=${encodeURIComponent(populationName(i))}`;

    const bursts: (DriveResult & { upstreamRequests: number })[] = [];
    const singles: (DriveResult & { upstreamRequests: number })[] = [];
    for (let round = 0; round < s.coalesceRounds; round++) {
      await simulator.resetStats();
      const single = await driveBurst(signet.url, pathOf(2 * round), headers, 1, '/healthz');
      singles.push({ ...single, upstreamRequests: (await simulator.stats()).upstreamRequests });

      await simulator.resetStats();
      const burst = await driveBurst(signet.url, pathOf(2 * round + 1), headers, s.coalesceRequests, '/healthz');
      const upstreamRequests = (await simulator.stats()).upstreamRequests;
      if ((burst.statuses['200'] ?? 0) !== s.coalesceRequests)
        throw new Error(`coalescing round ${round + 1}: statuses ${JSON.stringify(burst.statuses)}`);
      bursts.push({ ...burst, upstreamRequests });
      ctx.log(
        `  round ${round + 1}/${s.coalesceRounds} ${s.coalesceRequests} lookups in ${burst.elapsedMs.toFixed(1)} ms, ${upstreamRequests} upstream, ${JSON.stringify(burst.cacheStatuses)}; one miss alone ${single.elapsedMs.toFixed(1)} ms`,
      );
    }
    const upstream = Math.max(...bursts.map((b) => b.upstreamRequests));
    const allMs = median(bursts.map((b) => b.elapsedMs));
    const singleMs = median(singles.map((b) => b.elapsedMs));
    return {
      id: 'coalescing',
      title: '4 coalescing',
      durationMs: Math.round(performance.now() - started),
      figures: [
        {
          scenario: '4 coalescing',
          figure: `upstream requests, ${s.coalesceRequests} lookups`,
          unit: '',
          value: upstream,
          target: '== 1',
          met: bursts.every((b) => b.upstreamRequests === 1),
          invariant: true,
          rounds: bursts.map((b) => b.upstreamRequests),
        },
        {
          scenario: '4 coalescing',
          figure: 'time to answer all',
          unit: 'ms',
          value: allMs,
          baseline: singleMs,
          baselineLabel: 'one miss',
          ratio: ratio(allMs, singleMs),
          rounds: bursts.map((b) => b.elapsedMs),
          baselineRounds: singles.map((b) => b.elapsedMs),
        },
      ],
      notes: [
        `Fresh Signet, simulator latency ${s.cbLatencyMs} ms; ${s.coalesceRequests} requests sent at once on ${s.coalesceRequests} connections opened beforehand (one /healthz each); the time runs from the burst to its last answer. Answers per round: ${bursts.map((b) => JSON.stringify(b.cacheStatuses)).join(' ')}.`,
      ],
      raw: { bursts, singles },
    };
  } finally {
    await signet?.child.stop();
    await simulator?.child.stop();
  }
}
