import type autocannon from 'autocannon';
import type { BenchContext } from '../lib/context.js';
import { target } from '../lib/context.js';
import { getText } from '../lib/http.js';
import type { LoadResult } from '../lib/load.js';
import { assertClean, runLoad } from '../lib/load.js';
import type { ScenarioResult } from '../lib/report.js';
import { countAccessLines, startBare } from '../lib/services.js';
import { median, ratio } from '../lib/stats.js';
import type { CachedStack } from './cached-stack.js';

/**
 * Scenario 1: cached single lookups, Signet with every production feature on
 * against bare Fastify answering the same JSON body from a constant, both in
 * child processes, in alternating rounds; then latency at half of each one's
 * measured maximum rate.
 */

export const TARGET_RATIO = 0.8;

export interface CachedSingleOutcome {
  result: ScenarioResult;
  /** Signet's median req/s, the baseline of scenario 2. */
  signetRps: number;
}

export function singleRequests(stack: CachedStack): autocannon.Request[] {
  const headers = { authorization: stack.signet.lookupAuth };
  return stack.items.map(({ md5, name }) => ({ method: 'GET', path: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, headers }));
}

export async function runCachedSingle(ctx: BenchContext, stack: CachedStack): Promise<CachedSingleOutcome> {
  const s = ctx.settings;
  const started = performance.now();
  const { signet } = stack;
  const first = stack.items[0]!;
  const sample = await getText(`${signet.url}/v1/signatures/${first.md5}?name=${encodeURIComponent(first.name)}`, {
    authorization: signet.lookupAuth,
  });
  if (sample.status !== 200 || !sample.text.includes('"hit"'))
    throw new Error(`a cached lookup answered ${sample.status}: ${sample.text.slice(0, 200)}`);

  const bare = await startBare(target(ctx, 'bare-fastify'), sample.text);
  try {
    // The same paths and headers for both: the load generator does the same work whichever it drives.
    const requests = singleRequests(stack);
    const targets = [
      { key: 'signet', url: signet.url, pid: signet.child.process.pid },
      { key: 'bare', url: bare.url, pid: bare.child.process.pid },
    ] as const;
    const load = (t: (typeof targets)[number], extra: { overallRate?: number; recordLatency?: boolean; durationSec?: number } = {}) =>
      runLoad({
        url: t.url,
        serverPid: t.pid,
        requests,
        connections: s.singleConnections,
        durationSec: extra.durationSec ?? s.roundSeconds,
        ...extra,
      });

    for (const t of targets) assertClean(`warm-up ${t.key}`, await load(t, { durationSec: s.warmupSeconds }));

    const max: Record<'signet' | 'bare', LoadResult[]> = { signet: [], bare: [] };
    for (let round = 0; round < s.rounds; round++) {
      // A B, then B A: whatever drifts during a round pair weighs on both.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const result = await load(t);
        assertClean(`${t.key} round ${round + 1}`, result);
        max[t.key].push(result);
        ctx.log(
          `  round ${round + 1}/${s.rounds} ${t.key.padEnd(6)} ${Math.round(result.rps)} req/s, server CPU ${result.serverCpuUsPerRequest?.toFixed(0)} us/request`,
        );
      }
    }
    const rps = { signet: median(max.signet.map((r) => r.rps)), bare: median(max.bare.map((r) => r.rps)) };
    const cpuRounds = {
      signet: max.signet.map((r) => r.serverCpuUsPerRequest ?? Number.NaN),
      bare: max.bare.map((r) => r.serverCpuUsPerRequest ?? Number.NaN),
    };
    const cpu = { signet: median(cpuRounds.signet), bare: median(cpuRounds.bare) };

    const half: Record<'signet' | 'bare', LoadResult[]> = { signet: [], bare: [] };
    for (let round = 0; round < s.latencyRounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const result = await load(t, { overallRate: rps[t.key] / 2, recordLatency: true });
        assertClean(`${t.key} half-rate round ${round + 1}`, result);
        half[t.key].push(result);
        ctx.log(
          `  half-rate ${round + 1}/${s.latencyRounds} ${t.key.padEnd(6)} ${Math.round(result.rps)} req/s p50 ${result.latency!.p50Ms.toFixed(3)} ms p99 ${result.latency!.p99Ms.toFixed(3)} ms`,
        );
      }
    }
    const p = (key: 'signet' | 'bare', pick: 'p50Ms' | 'p99Ms') => half[key].map((r) => r.latency![pick]);
    const p50 = { signet: median(p('signet', 'p50Ms')), bare: median(p('bare', 'p50Ms')) };
    const p99 = { signet: median(p('signet', 'p99Ms')), bare: median(p('bare', 'p99Ms')) };
    const accessLines = countAccessLines(signet.logFile);

    const rpsRatio = ratio(rps.signet, rps.bare);
    const result: ScenarioResult = {
      id: 'cached-single',
      title: '1 cached single lookup',
      durationMs: Math.round(performance.now() - started),
      figures: [
        {
          scenario: '1 cached single',
          figure: 'max req/s',
          unit: 'req/s',
          value: rps.signet,
          baseline: rps.bare,
          baselineLabel: 'bare',
          ratio: rpsRatio,
          target: `>= ${TARGET_RATIO} x bare`,
          met: rpsRatio >= TARGET_RATIO,
          rounds: max.signet.map((r) => r.rps),
          baselineRounds: max.bare.map((r) => r.rps),
        },
        {
          scenario: '1 cached single',
          figure: 'server CPU per request',
          unit: 'us',
          value: cpu.signet,
          baseline: cpu.bare,
          baselineLabel: 'bare',
          ratio: ratio(cpu.signet, cpu.bare),
          rounds: cpuRounds.signet,
          baselineRounds: cpuRounds.bare,
          note: 'user+system CPU of the server process during the max-rate rounds; unlike req/s, it hardly depends on what else the machine runs',
        },
        {
          scenario: '1 cached single',
          figure: 'p50 @ half max',
          unit: 'ms',
          value: p50.signet,
          baseline: p50.bare,
          baselineLabel: 'bare',
          ratio: ratio(p50.signet, p50.bare),
          rounds: p('signet', 'p50Ms'),
          baselineRounds: p('bare', 'p50Ms'),
        },
        {
          scenario: '1 cached single',
          figure: 'p99 @ half max',
          unit: 'ms',
          value: p99.signet,
          baseline: p99.bare,
          baselineLabel: 'bare',
          ratio: ratio(p99.signet, p99.bare),
          rounds: p('signet', 'p99Ms'),
          baselineRounds: p('bare', 'p99Ms'),
        },
      ],
      notes: [
        `${s.rounds} alternating rounds of ${s.roundSeconds} s, ${s.singleConnections} connections, ${requests.length} cached md5s cycled; latency at ${Math.round(rps.signet / 2)} req/s (Signet) and ${Math.round(rps.bare / 2)} req/s (bare), half of each one's median maximum.`,
        `Signet features seen: ${Object.entries(stack.features)
          .filter(([key, on]) => key !== 'accessLogLines' && on === true)
          .map(([key]) => key)
          .join(', ')}; missing: ${
          Object.entries(stack.features)
            .filter(([key, on]) => key !== 'accessLogLines' && on === false)
            .map(([key]) => key)
            .join(', ') || 'none'
        }; ${accessLines} access-log lines written.`,
      ],
      raw: {
        bodyBytes: Buffer.byteLength(sample.text),
        features: stack.features,
        accessLogLines: accessLines,
        maxRounds: max,
        halfRateRounds: half,
        bareStartupMs: bare.startupMs,
      },
    };
    return { result, signetRps: rps.signet };
  } finally {
    await bare.child.stop();
  }
}
