import type autocannon from 'autocannon';
import type { BenchContext } from '../lib/context.js';
import { postJson } from '../lib/http.js';
import type { LoadResult } from '../lib/load.js';
import { assertClean, runLoad } from '../lib/load.js';
import type { Figure, ScenarioResult } from '../lib/report.js';
import { median, ratio } from '../lib/stats.js';
import type { CachedStack } from './cached-stack.js';
import { singleRequests } from './cached-single.js';

/**
 * Scenario 2: cached batches of 100 and 1000 items, in lookups per second,
 * against single lookups (scenario 1's figure) measured again in the same
 * alternating rounds.
 */

export const TARGET_LOOKUPS_PER_SECOND_1000 = 500_000;

export function batchRequests(stack: CachedStack, size: number): autocannon.Request[] {
  const headers = { authorization: stack.signet.lookupAuth, 'content-type': 'application/json' };
  const requests: autocannon.Request[] = [];
  // Different slices of the cached md5s, so that consecutive batches are not byte-identical.
  for (let start = 0; start + size <= stack.items.length; start += size) {
    requests.push({
      method: 'POST',
      path: '/v1/signatures/batch',
      headers,
      body: JSON.stringify({ items: stack.items.slice(start, start + size) }),
    });
  }
  if (requests.length === 0) throw new Error(`batch of ${size} needs at least ${size} cached md5s`);
  return requests;
}

export async function runCachedBatch(ctx: BenchContext, stack: CachedStack): Promise<ScenarioResult> {
  const s = ctx.settings;
  const started = performance.now();
  const { signet } = stack;

  for (const size of s.batchSizes) {
    const check = await postJson<{ results: { cache?: { status?: string } }[] }>(
      `${signet.url}/v1/signatures/batch`,
      { items: stack.items.slice(0, size) },
      { authorization: signet.lookupAuth },
    );
    const hits = check.status === 200 ? check.body.results.filter((r) => r.cache?.status === 'hit').length : 0;
    if (hits !== size) throw new Error(`a cached batch of ${size} answered ${check.status} with ${hits} hits`);
  }

  const kinds = [
    { key: 'single', size: 1, requests: singleRequests(stack), connections: s.singleConnections },
    ...s.batchSizes.map((size) => ({ key: `batch-${size}`, size, requests: batchRequests(stack, size), connections: s.batchConnections })),
  ];
  const load = (kind: (typeof kinds)[number], durationSec: number) =>
    runLoad({
      url: signet.url,
      serverPid: signet.child.process.pid,
      requests: kind.requests,
      connections: kind.connections,
      durationSec,
      timeoutSec: 30,
    });

  for (const kind of kinds) assertClean(`warm-up ${kind.key}`, await load(kind, s.warmupSeconds));

  const rounds: Record<string, LoadResult[]> = Object.fromEntries(kinds.map((k) => [k.key, []]));
  for (let round = 0; round < s.rounds; round++) {
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      const result = await load(kind, s.roundSeconds);
      assertClean(`${kind.key} round ${round + 1}`, result);
      rounds[kind.key]!.push(result);
      ctx.log(
        `  round ${round + 1}/${s.rounds} ${kind.key.padEnd(10)} ${Math.round(result.rps)} req/s = ${Math.round(result.rps * kind.size)} lookups/s, server CPU ${((result.serverCpuUsPerRequest ?? Number.NaN) / kind.size).toFixed(1)} us/lookup`,
      );
    }
  }
  const lookups = (key: string, size: number) => rounds[key]!.map((r) => r.rps * size);
  const singleLookups = lookups('single', 1);
  const singleMedian = median(singleLookups);

  const cpuPerLookup = (key: string, size: number) => rounds[key]!.map((r) => (r.serverCpuUsPerRequest ?? Number.NaN) / size);
  const singleCpu = cpuPerLookup('single', 1);
  const figures: Figure[] = s.batchSizes.flatMap((size) => {
    const values = lookups(`batch-${size}`, size);
    const value = median(values);
    const figure: Figure = {
      scenario: '2 cached batch',
      figure: `lookups/s, ${size}-item batches`,
      unit: '/s',
      value,
      baseline: singleMedian,
      baselineLabel: 'single',
      ratio: ratio(value, singleMedian),
      rounds: values,
      baselineRounds: singleLookups,
      note: `${Math.round(median(rounds[`batch-${size}`]!.map((r) => r.rps)))} batches/s`,
    };
    if (size === 1000) {
      figure.target = `>= ${TARGET_LOOKUPS_PER_SECOND_1000.toLocaleString('en-US')}/s`;
      figure.met = value >= TARGET_LOOKUPS_PER_SECOND_1000;
    }
    const cpu = cpuPerLookup(`batch-${size}`, size);
    const cpuFigure: Figure = {
      scenario: '2 cached batch',
      figure: `server CPU per lookup, ${size}-item`,
      unit: 'us',
      value: median(cpu),
      baseline: median(singleCpu),
      baselineLabel: 'single',
      ratio: ratio(median(cpu), median(singleCpu)),
      rounds: cpu,
      baselineRounds: singleCpu,
    };
    return [figure, cpuFigure];
  });

  return {
    id: 'cached-batch',
    title: '2 cached batches',
    durationMs: Math.round(performance.now() - started),
    figures,
    notes: [
      `${s.rounds} alternating rounds of ${s.roundSeconds} s: single lookups (${s.singleConnections} connections) and batches (${s.batchConnections} connections), every item a cache hit; the baseline is single lookups/s measured in the same rounds.`,
    ],
    raw: { rounds },
  };
}
