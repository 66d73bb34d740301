import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * `npm run simulator` as a child process, for the end-to-end tests of both
 * simulators (SIMULATOR_BACKEND picks which): only PATH and the given
 * variables, so the test machine's own SIMULATOR_* never leak in.
 */

const MAIN = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));

export function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, output: () => stdout, errors: () => stderr };
}

export type MainRun = ReturnType<typeof startMain>;

/** The banner once it is printed in full (both banners end with the admin: line); fails if it takes over 15 s or the process exits. */
export async function bannerOf(run: MainRun): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (!run.output().includes('admin:')) {
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no banner: ${run.output()} ${run.errors()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return run.output();
}

/** Runs `check` against the running simulator, then sends SIGTERM (whether or not the check passed) and gives the exit code. */
export async function exitCodeAfter(run: MainRun, check: () => Promise<void>): Promise<number | null> {
  const exited = once(run.child, 'exit');
  try {
    await check();
  } finally {
    run.child.kill('SIGTERM');
  }
  const [code] = (await exited) as [number | null];
  return code;
}
