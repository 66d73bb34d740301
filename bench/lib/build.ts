import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT, SERVER_ENTRY, SIMULATOR_ENTRY, TARGET_BUILD, TARGET_SOURCES } from './paths.js';

export interface BuildOutcome {
  ran: boolean;
  ok: boolean;
  ms: number;
  /** tsc's complaints, when it failed (it still emits). */
  output?: string;
}

/**
 * `npm run build`: the bench measures dist/, what `npm start` runs; its
 * upstream, the simulator, is compiled apart (`npm run build:simulator`). tsc emits
 * even when it reports type errors (others may be mid-edit), so a failed
 * build is reported but does not stop the bench as long as dist/server.js exists.
 */
export function buildService(skip: boolean): BuildOutcome {
  if (skip) {
    if (!existsSync(SERVER_ENTRY)) throw new Error('BENCH_SKIP_BUILD=1 but dist/server.js does not exist: run npm run build');
    if (!existsSync(SIMULATOR_ENTRY)) throw new Error('BENCH_SKIP_BUILD=1 but the simulator is not built: run npm run build:simulator');
    return { ran: false, ok: true, ms: 0 };
  }
  const started = performance.now();
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  const simulator = spawnSync('npm', ['run', '--silent', 'build:simulator'], { cwd: ROOT, encoding: 'utf8' });
  const ms = Math.round(performance.now() - started);
  const ok = result.status === 0 && simulator.status === 0;
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(`npm run build produced no dist/server.js:\n${result.stdout}${result.stderr}`);
  }
  if (!existsSync(SIMULATOR_ENTRY)) {
    throw new Error(`npm run build:simulator produced no ${SIMULATOR_ENTRY}:\n${simulator.stdout}${simulator.stderr}`);
  }
  return { ran: true, ok, ms, ...(!ok && { output: `${result.stdout}${result.stderr}`.slice(0, 4000) }) };
}

/**
 * The bench's own child programs (bench/targets/*.ts) as plain JavaScript, so
 * that they start with `node` alone: a tsx loader would add ~0.5 s to the
 * bare-Fastify start-up baseline and compile on the fly during load.
 * Transpile-only; `tsc --noEmit` checks their types with the rest of the repo.
 */
export function compileTargets(): Record<string, string> {
  mkdirSync(TARGET_BUILD, { recursive: true });
  const compiled: Record<string, string> = {};
  for (const file of readdirSync(TARGET_SOURCES)) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(join(TARGET_SOURCES, file), 'utf8');
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    // .mjs: ES modules whatever package.json scope they land in.
    const out = join(TARGET_BUILD, file.replace(/\.ts$/, '.mjs'));
    writeFileSync(out, output.outputText);
    compiled[file.replace(/\.ts$/, '')] = out;
  }
  return compiled;
}

export { ROOT };
