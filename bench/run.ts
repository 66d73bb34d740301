import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { buildService, compileTargets } from './lib/build.js';
import type { BenchContext } from './lib/context.js';
import { machineFacts } from './lib/machine.js';
import { RESULTS_DIR, ROOT } from './lib/paths.js';
import type { ScenarioResult } from './lib/report.js';
import { renderTable } from './lib/report.js';
import { settingsFromEnvironment } from './lib/settings.js';
import { round } from './lib/stats.js';
import { runCachedBatch } from './scenarios/cached-batch.js';
import { runCachedSingle } from './scenarios/cached-single.js';
import { runCloudMisses } from './scenarios/cloud-misses.js';
import type { CachedStack } from './scenarios/cached-stack.js';
import { startCachedStack } from './scenarios/cached-stack.js';
import { runCoalescing } from './scenarios/coalescing.js';
import { runEdrBatchedMisses } from './scenarios/edr-batched-misses.js';
import { runFleet } from './scenarios/fleet.js';
import { runMemory } from './scenarios/memory.js';
import { runMissPath } from './scenarios/miss-path.js';
import { runStartup } from './scenarios/startup.js';

/**
 * `npm run bench` (and `npm run bench:smoke`): builds dist/, runs the nine
 * scenarios with every server in a child process on 127.0.0.1, prints a
 * table and writes bench/results/latest.json (smoke: smoke.json). Exits 1
 * only when a scenario crashed or a correctness invariant broke; a missed
 * speed target is reported, never fatal.
 */

const settings = settingsFromEnvironment(process.argv.slice(2), process.env);
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const runStarted = performance.now();
const log = (message: string) => console.log(message);

log(`signet bench (${settings.mode}) on ${process.version}`);
log('building dist/ (npm run build)...');
const build = buildService(process.env.BENCH_SKIP_BUILD === '1');
if (build.ran)
  log(
    build.ok
      ? `  built in ${build.ms} ms`
      : `  npm run build reported errors (dist/ was still emitted); measuring it anyway:\n${build.output}`,
  );
const targets = compileTargets();
const ctx: BenchContext = { settings, targets, log };
const machine = machineFacts();
log(
  `machine: ${machine.cpuCount} x ${machine.cpuModel}, ${(machine.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, load ${machine.loadAverageAtStart.join(' ')}`,
);
if (machine.loadAverageAtStart[0]! > machine.cpuCount / 2) {
  log('  warning: the machine is already busy; absolute figures will be low and noisy (the ratios suffer less, not nothing)');
}

const results: ScenarioResult[] = [];
const wanted = (id: string) => only === undefined || only.includes(id);

async function scenario(id: string, title: string, run: () => Promise<ScenarioResult>): Promise<void> {
  if (!wanted(id)) return;
  log(`\n== ${title}`);
  const started = performance.now();
  try {
    const result = await run();
    result.loadAverageAfter = loadavg().map((v) => round(v, 2));
    results.push(result);
    log(`  done in ${(result.durationMs / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`  CRASHED: ${message}`);
    results.push({ id, title, figures: [], notes: [], raw: null, error: message, durationMs: Math.round(performance.now() - started) });
  }
}

if (wanted('cached-single') || wanted('cached-batch')) {
  let stack: CachedStack | undefined;
  let stackError: string | undefined;
  try {
    log('\n== starting the cached stack (simulator + Signet, cache warmed)');
    stack = await startCachedStack(ctx);
  } catch (error) {
    stackError = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`  CRASHED: ${stackError}`);
  }
  try {
    if (stack) {
      const s = stack;
      await scenario('cached-single', '1 cached single lookup', async () => (await runCachedSingle(ctx, s)).result);
      await scenario('cached-batch', '2 cached batches', () => runCachedBatch(ctx, s));
    } else {
      for (const [id, title] of [
        ['cached-single', '1 cached single lookup'],
        ['cached-batch', '2 cached batches'],
      ] as const) {
        if (wanted(id)) results.push({ id, title, figures: [], notes: [], raw: null, error: stackError ?? 'no stack', durationMs: 0 });
      }
    }
  } finally {
    await stack?.stop();
  }
}
await scenario('miss-path', '3 miss path', () => runMissPath(ctx));
await scenario('coalescing', '4 coalescing', () => runCoalescing(ctx));
await scenario('memory', '5 memory', () => runMemory(ctx));
await scenario('startup', '6 start-up', () => runStartup(ctx));
await scenario('cloud-misses', '7 Cloud misses', () => runCloudMisses(ctx));
await scenario('fleet', '8 fleet', () => runFleet(ctx));
await scenario('edr-batched-misses', '9 EDR batched misses', () => runEdrBatchedMisses(ctx));

const figures = results.flatMap((r) => r.figures);
const crashed = results.filter((r) => r.error !== undefined);
const broken = figures.filter((f) => f.invariant && f.met === false);
const judged = figures.filter((f) => f.met !== undefined);

log(`\nSignet bench (${settings.mode}), ${machine.cpuCount} x ${machine.cpuModel}, node ${process.version}, medians of the rounds\n`);
log(renderTable(results));
log('');
for (const r of results) for (const note of r.notes) log(`  [${r.title}] ${note}`);
log(
  `\ntargets: ${judged.filter((f) => f.met).length} met, ${judged.filter((f) => !f.met).length} missed` +
    (broken.length > 0 ? `; INVARIANTS BROKEN: ${broken.map((f) => `${f.scenario} ${f.figure}`).join(', ')}` : '') +
    (crashed.length > 0 ? `; CRASHED: ${crashed.map((r) => r.title).join(', ')}` : ''),
);

const clean = (value: number | undefined) => (value === undefined ? undefined : Number.isFinite(value) ? round(value, 4) : null);
const report = {
  benchmark: 'signet',
  mode: settings.mode,
  machine,
  node: process.version,
  settings,
  build: { ran: build.ran, ok: build.ok, ms: build.ms },
  loadAverageAtEnd: loadavg().map((v) => round(v, 2)),
  durationMs: Math.round(performance.now() - runStarted),
  summary: figures.map((f) => ({
    scenario: f.scenario,
    figure: f.figure,
    unit: f.unit,
    value: clean(f.value),
    baseline: clean(f.baseline),
    baselineLabel: f.baselineLabel,
    ratio: clean(f.ratio),
    target: f.target,
    met: f.met,
    invariant: f.invariant,
    note: f.note,
  })),
  targets: { met: judged.filter((f) => f.met).length, missed: judged.filter((f) => !f.met).length },
  invariantsBroken: broken.map((f) => `${f.scenario}: ${f.figure}`),
  crashed: crashed.map((r) => r.id),
  scenarios: results,
};
mkdirSync(RESULTS_DIR, { recursive: true });
// A partial run never replaces latest.json, which the README's table is generated from.
const base = settings.mode === 'smoke' ? 'smoke' : 'latest';
const file = join(RESULTS_DIR, only === undefined ? `${base}.json` : `${base}-only-${only.join('+')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${relative(ROOT, file)}`);

process.exit(crashed.length > 0 || broken.length > 0 ? 1 : 0);
