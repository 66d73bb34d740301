import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where things are: the repository, the built service, the compiled bench targets, scratch files. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const SERVER_ENTRY = join(DIST, 'server.js');
/** The simulator compiled apart from the service (`npm run build:simulator`); dist/ never holds it. */
export const SIMULATOR_DIST = join(ROOT, 'node_modules', '.cache', 'signet-simulator');
export const SIMULATOR_ENTRY = join(SIMULATOR_DIST, 'main.js');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const TARGET_SOURCES = join(ROOT, 'bench', 'targets');
/** Under node_modules so the compiled targets resolve fastify like the service does; never linted or committed. */
export const TARGET_BUILD = join(ROOT, 'node_modules', '.cache', 'signet-bench');

let scratch: string | undefined;

/** A per-run scratch directory (logs, snapshot files), removed when the process exits unless BENCH_KEEP_SCRATCH=1. */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = join(tmpdir(), `signet-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    scratch = dir;
    if (process.env.BENCH_KEEP_SCRATCH !== '1') {
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
  }
  return scratch;
}
