import autocannon from 'autocannon';
import { cpuTimeMs } from './children.js';
import { percentileOfSorted } from './stats.js';

/**
 * autocannon, run in this process against a server in another one. Request
 * rates count 2xx answers only. Latencies are taken from autocannon's
 * per-response `responseTime` (sub-millisecond), not from its histogram,
 * which keeps whole milliseconds only: a cached answer takes well under one.
 */

export interface LoadOptions {
  url: string;
  requests: autocannon.Request[];
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationSec?: number;
  /** Total requests, then stop. */
  amount?: number;
  /** Requests per second across all connections (paced); default unlimited. */
  overallRate?: number;
  /** Keep every response time (for percentiles). */
  recordLatency?: boolean;
  /** Seconds a request may take before it counts as a timeout. */
  timeoutSec?: number;
  /** The server's process id: its CPU time over the run is reported. */
  serverPid?: number | undefined;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  durationSec: number;
  /** Wall time of the whole run, connection set-up and wind-down included. */
  wallMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers per second. */
  rps: number;
  statusCodes: Record<string, number>;
  latency?: LatencySummary;
  /** CPU time the server process used during the run (ms), when `serverPid` was given. */
  serverCpuMs?: number;
  /** serverCpuMs per 2xx answer, in microseconds. */
  serverCpuUsPerRequest?: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  const opts: autocannon.Options = {
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    requests: options.requests,
    timeout: options.timeoutSec ?? 10,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSec ?? 5 }),
    ...(options.overallRate !== undefined && { overallRate: Math.max(1, Math.round(options.overallRate)) }),
  };
  const cpuBefore = cpuTimeMs(options.serverPid);
  const wallStarted = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(opts, (error: unknown, res: autocannon.Result) => (error ? reject(error) : resolve(res)));
    if (options.recordLatency) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
      });
    }
  });
  const ok = result['2xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const out: LoadResult = {
    durationSec: result.duration,
    wallMs: Math.round(performance.now() - wallStarted),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: result.duration > 0 ? ok / result.duration : 0,
    statusCodes,
  };
  if (options.serverPid !== undefined) {
    const cpu = cpuTimeMs(options.serverPid) - cpuBefore;
    out.serverCpuMs = cpu;
    out.serverCpuUsPerRequest = ok > 0 ? (cpu * 1000) / ok : Number.NaN;
  }
  if (options.recordLatency) {
    const sorted = Float64Array.from(times).sort();
    out.latency = {
      count: sorted.length,
      p50Ms: percentileOfSorted(sorted, 50),
      p90Ms: percentileOfSorted(sorted, 90),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    };
  }
  return out;
}

/** Throws when a load run saw anything but 2xx answers: a bench of error responses measures nothing. */
export function assertClean(label: string, result: LoadResult): void {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.ok === 0) {
    throw new Error(
      `${label}: ${result.ok} ok, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
}
