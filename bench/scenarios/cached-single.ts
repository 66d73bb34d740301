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
 * against bare Fastify answering the same JSON body from a constant, all in
 * child processes, in alternating rounds; then latency at half of each one's
 * measured maximum rate. Signet is measured twice in the same rounds: at
 * `info`, with its access line (target 0.5 x bare), and at `LOG_LEVEL=warn`,
 * without it (target 0.8 x bare).
 */

export const TARGET_RATIO = 0.5;
export const TARGET_RATIO_WARN = 0.8;

export interface CachedSingleOutcome {
  result: ScenarioResult;
  /** Signet's median req/s (at info), the baseline of scenario 2. */
  signetRps: number;
}

type Key = 'signet' | 'warn' | 'bare';

/** The lookups of the stack's items; `authorization` defaults to the main Signet's lookup key. */
export function singleRequests(stack: CachedStack, authorization = stack.signet.lookupAuth): autocannon.Request[] {
  const headers = { authorization };
  return stack.items.map(({ md5, name }) => ({ method: 'GET', path: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, headers }));
}

export async function runCachedSingle(ctx: BenchContext, stack: CachedStack): Promise<CachedSingleOutcome> {
  const s = ctx.settings;
  const started = performance.now();
  const { signet, quietSignet } = stack;
  if (quietSignet === undefined) throw new Error('scenario 1 needs the stack with its LOG_LEVEL=warn Signet');
  const first = stack.items[0]!;
  const samplePath = `/v1/signatures/${first.md5}?name=${encodeURIComponent(first.name)}`;
  const sample = await getText(`${signet.url}${samplePath}`, { authorization: signet.lookupAuth });
  if (sample.status !== 200 || !sample.text.includes('"hit"'))
    throw new Error(`a cached lookup answered ${sample.status}: ${sample.text.slice(0, 200)}`);
  const quietSample = await getText(`${quietSignet.url}${samplePath}`, { authorization: quietSignet.lookupAuth });
  if (quietSample.status !== 200 || !quietSample.text.includes('"hit"'))
    throw new Error(`a cached lookup at LOG_LEVEL=warn answered ${quietSample.status}: ${quietSample.text.slice(0, 200)}`);

  const bare = await startBare(target(ctx, 'bare-fastify'), sample.text);
  try {
    // The same paths for all: the load generator does the same work whichever it drives.
    const requests = singleRequests(stack);
    const quietRequests = singleRequests(stack, quietSignet.lookupAuth);
    const targets: readonly { key: Key; url: string; pid: number | undefined; requests: autocannon.Request[] }[] = [
      { key: 'signet', url: signet.url, pid: signet.child.process.pid, requests },
      { key: 'warn', url: quietSignet.url, pid: quietSignet.child.process.pid, requests: quietRequests },
      { key: 'bare', url: bare.url, pid: bare.child.process.pid, requests },
    ];
    const load = (t: (typeof targets)[number], extra: { overallRate?: number; recordLatency?: boolean; durationSec?: number } = {}) =>
      runLoad({
        url: t.url,
        serverPid: t.pid,
        requests: t.requests,
        connections: s.singleConnections,
        durationSec: extra.durationSec ?? s.roundSeconds,
        ...extra,
      });
    // A B C, then C B A: whatever drifts during a round pair weighs on all.
    const inOrder = (round: number) => (round % 2 === 0 ? targets : [...targets].reverse());

    for (const t of targets) assertClean(`warm-up ${t.key}`, await load(t, { durationSec: s.warmupSeconds }));

    const max: Record<Key, LoadResult[]> = { signet: [], warn: [], bare: [] };
    for (let round = 0; round < s.rounds; round++) {
      for (const t of inOrder(round)) {
        const result = await load(t);
        assertClean(`${t.key} round ${round + 1}`, result);
        max[t.key].push(result);
        ctx.log(
          `  round ${round + 1}/${s.rounds} ${t.key.padEnd(6)} ${Math.round(result.rps)} req/s, server CPU ${result.serverCpuUsPerRequest?.toFixed(0)} us/request`,
        );
      }
    }
    const medianOf = (rounds: Record<Key, number[]>): Record<Key, number> => ({
      signet: median(rounds.signet),
      warn: median(rounds.warn),
      bare: median(rounds.bare),
    });
    const pick = (from: Record<Key, LoadResult[]>, value: (r: LoadResult) => number): Record<Key, number[]> => ({
      signet: from.signet.map(value),
      warn: from.warn.map(value),
      bare: from.bare.map(value),
    });
    const rpsRounds = pick(max, (r) => r.rps);
    const cpuRounds = pick(max, (r) => r.serverCpuUsPerRequest ?? Number.NaN);
    const rps = medianOf(rpsRounds);
    const cpu = medianOf(cpuRounds);

    const half: Record<Key, LoadResult[]> = { signet: [], warn: [], bare: [] };
    for (let round = 0; round < s.latencyRounds; round++) {
      for (const t of inOrder(round)) {
        const result = await load(t, { overallRate: rps[t.key] / 2, recordLatency: true });
        assertClean(`${t.key} half-rate round ${round + 1}`, result);
        half[t.key].push(result);
        ctx.log(
          `  half-rate ${round + 1}/${s.latencyRounds} ${t.key.padEnd(6)} ${Math.round(result.rps)} req/s p50 ${result.latency!.p50Ms.toFixed(3)} ms p99 ${result.latency!.p99Ms.toFixed(3)} ms`,
        );
      }
    }
    const p50Rounds = pick(half, (r) => r.latency!.p50Ms);
    const p99Rounds = pick(half, (r) => r.latency!.p99Ms);
    const p50 = medianOf(p50Rounds);
    const p99 = medianOf(p99Rounds);
    const accessLines = countAccessLines(signet.logFile);
    const quietAccessLines = countAccessLines(quietSignet.logFile);

    const level = { signet: 'info, access line', warn: 'LOG_LEVEL=warn' } as const;
    const goal = { signet: TARGET_RATIO, warn: TARGET_RATIO_WARN } as const;
    const figuresOf = (key: 'signet' | 'warn') => {
      const rpsRatio = ratio(rps[key], rps.bare);
      const compared = (figure: string, unit: string, rounds: Record<Key, number[]>, values: Record<Key, number>, note?: string) => ({
        scenario: '1 cached single',
        figure: `${figure} (${level[key]})`,
        unit,
        value: values[key],
        baseline: values.bare,
        baselineLabel: 'bare',
        ratio: ratio(values[key], values.bare),
        rounds: rounds[key],
        baselineRounds: rounds.bare,
        ...(note !== undefined && { note }),
      });
      return [
        { ...compared('max req/s', 'req/s', rpsRounds, rps), target: `>= ${goal[key]} x bare`, met: rpsRatio >= goal[key] },
        compared(
          'server CPU per request',
          'us',
          cpuRounds,
          cpu,
          'user+system CPU of the server process during the max-rate rounds; unlike req/s, it hardly depends on what else the machine runs',
        ),
        compared('p50 @ half max', 'ms', p50Rounds, p50),
        compared('p99 @ half max', 'ms', p99Rounds, p99),
      ];
    };

    const result: ScenarioResult = {
      id: 'cached-single',
      title: '1 cached single lookup',
      durationMs: Math.round(performance.now() - started),
      figures: [...figuresOf('signet'), ...figuresOf('warn')],
      notes: [
        `${s.rounds} alternating rounds of ${s.roundSeconds} s, ${s.singleConnections} connections, ${requests.length} cached md5s cycled; latency at ${Math.round(rps.signet / 2)} req/s (Signet at info), ${Math.round(rps.warn / 2)} req/s (Signet at warn) and ${Math.round(rps.bare / 2)} req/s (bare), half of each one's median maximum.`,
        `Signet features seen: ${Object.entries(stack.features)
          .filter(([key, on]) => key !== 'accessLogLines' && on === true)
          .map(([key]) => key)
          .join(', ')}; missing: ${
          Object.entries(stack.features)
            .filter(([key, on]) => key !== 'accessLogLines' && on === false)
            .map(([key]) => key)
            .join(', ') || 'none'
        }; ${accessLines} access-log lines written at info, ${quietAccessLines} at warn.`,
      ],
      raw: {
        bodyBytes: Buffer.byteLength(sample.text),
        features: stack.features,
        accessLogLines: accessLines,
        quietAccessLogLines: quietAccessLines,
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
