import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { populationMd5, populationName } from '../src/simulator/population.js';
import { buildService, compileTargets } from './lib/build.js';
import type { BenchContext } from './lib/context.js';
import { renderProfile, summariseProfile } from './lib/cpuprofile.js';
import { driveEach } from './lib/drive.js';
import { runLoad } from './lib/load.js';
import { RESULTS_DIR, ROOT } from './lib/paths.js';
import { startSignet, startSimulator } from './lib/services.js';
import { FULL } from './lib/settings.js';
import { batchRequests } from './scenarios/cached-batch.js';
import { singleRequests } from './scenarios/cached-single.js';
import { startCachedStack } from './scenarios/cached-stack.js';

/**
 * Where Signet's CPU goes: Signet under one scenario's load with
 * `node --cpu-prof`, then the profile summarised by self and total time over
 * the measured load only (start-up and cache warming left out).
 *
 *   npx tsx bench/profile.ts [single|batch-100|batch-1000|miss] [seconds]
 *
 * single and batch-N: scenario 1 and 2's cached load for `seconds` (default 10).
 * miss: scenario 3's miss path (50 ms upstream, CB_MAX_CONCURRENCY=8), about
 * `seconds` x 160 distinct md5s.
 *
 * Writes bench/results/signet-<kind>.cpuprofile (git-ignored; open it in
 * Chrome DevTools or speedscope) and prints (and saves) the summary as
 * bench/results/profile-<kind>.txt.
 */

const kind = process.argv[2] ?? 'single';
const seconds = Number(process.argv[3] ?? '10');
if (!/^(single|batch-\d+|miss)$/.test(kind) || !(seconds > 0)) {
  console.error('usage: tsx bench/profile.ts [single|batch-100|batch-1000|miss] [seconds]');
  process.exit(2);
}

buildService(process.env.BENCH_SKIP_BUILD === '1');
const ctx: BenchContext = { settings: FULL, targets: compileTargets(), log: (m) => console.log(m) };
mkdirSync(RESULTS_DIR, { recursive: true });
const name = `signet-${kind}.cpuprofile`;
const profileArgs = ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}`, `--cpu-prof-name=${name}`];
const now = () => Number(process.hrtime.bigint() / 1000n);
let fromUs = 0;
let toUs = 0;
let headline: string;

if (kind === 'miss') {
  const count = Math.round(seconds * 160);
  const simulator = await startSimulator({ population: count + 200, latencyMs: FULL.cbLatencyMs });
  try {
    const signet = await startSignet({
      cbUrl: simulator.url,
      cbToken: simulator.token,
      label: 'profile-miss',
      nodeArgs: profileArgs,
      env: { CB_MAX_CONCURRENCY: String(FULL.cbMaxConcurrency), CB_BATCH_MAX_HASHES: '1' },
    });
    try {
      const paths = (from: number, n: number) =>
        Array.from(
          { length: n },
          (_, k) => `/v1/signatures/${populationMd5(from + k)}?name=${encodeURIComponent(populationName(from + k))}`,
        );
      const headers = { authorization: signet.lookupAuth };
      await driveEach(signet.url, paths(count, 200), headers, FULL.missConcurrency);
      fromUs = now();
      const result = await driveEach(signet.url, paths(0, count), headers, FULL.missConcurrency);
      toUs = now();
      headline = `miss: ${(count / (result.elapsedMs / 1000)).toFixed(1)} misses/s under the profiler, statuses ${JSON.stringify(result.statuses)}`;
    } finally {
      // A graceful stop: --cpu-prof writes the profile as the process exits.
      await signet.child.stop();
    }
  } finally {
    await simulator.child.stop();
  }
} else {
  const stack = await startCachedStack(ctx, { nodeArgs: profileArgs, quiet: false });
  try {
    const size = kind === 'single' ? 1 : Number(kind.slice('batch-'.length));
    const requests = kind === 'single' ? singleRequests(stack) : batchRequests(stack, size);
    const connections = kind === 'single' ? FULL.singleConnections : FULL.batchConnections;
    await runLoad({ url: stack.signet.url, requests, connections, durationSec: 2, timeoutSec: 30 });
    fromUs = now();
    const result = await runLoad({ url: stack.signet.url, requests, connections, durationSec: seconds, timeoutSec: 30 });
    toUs = now();
    headline = `${kind}: ${Math.round(result.rps)} req/s (${Math.round(result.rps * size)} lookups/s) under the profiler, ${result.non2xx} non-2xx`;
  } finally {
    await stack.stop();
  }
}

if (!readdirSync(RESULTS_DIR).includes(name)) throw new Error(`no ${name} in ${RESULTS_DIR}: did Signet exit gracefully?`);
const file = join(RESULTS_DIR, name);
const text = `Signet CPU profile, ${kind}, node ${process.version}\n${headline}\n\n${renderProfile(summariseProfile(file, { fromUs, toUs }))}\n`;
const summaryFile = join(RESULTS_DIR, `profile-${kind}.txt`);
writeFileSync(summaryFile, text);
console.log(`\n${text}\nprofile: ${relative(ROOT, file)}\nsummary: ${relative(ROOT, summaryFile)}`);
