/**
 * bin/signet.js, what `npx signet` and an installed `signet` run: the build
 * when it is there and at least as new as the client's sources, else the
 * sources through tsx (a checkout right after `npm ci`, or after an edit
 * that was not rebuilt), else a message saying how to build. Each case runs
 * the launcher in a copy of the package's layout, so the checkout's own
 * dist/ is left alone.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, repoRoot, runCli, startCliStack } from './support.js';

const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
let stack: CliStack;
const dirs: string[] = [];

/** The package's layout in a temporary directory: package.json, tsconfig.json, bin/, src/cli/, and node_modules when asked. */
function layout(options: { nodeModules: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-launcher-'));
  dirs.push(dir);
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(repoRoot, file), join(dir, file));
  cpSync(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(repoRoot, 'src/cli'), join(dir, 'src/cli'), { recursive: true });
  if (options.nodeModules) symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** A stand-in build that says it ran, with a modification time `ageSeconds` away from now. */
function fakeBuild(dir: string, ageSeconds: number): void {
  mkdirSync(join(dir, 'dist/cli'), { recursive: true });
  const file = join(dir, 'dist/cli/main.js');
  writeFileSync(file, "process.stdout.write('from the build\\n');\nprocess.exitCode = 7;\n");
  const at = new Date(Date.now() + ageSeconds * 1000);
  utimesSync(file, at, at);
}

beforeAll(async () => {
  stack = await startCliStack();
});
afterAll(async () => {
  await stack.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('bin/signet.js', () => {
  it('without a build, runs the sources through tsx, from any working directory', async () => {
    const dir = layout({ nodeModules: true });
    const run = await runCli(['lookup', samples.signed.md5, '--name', 'git'], {
      entry: [join(dir, 'bin/signet.js')],
      env: cliEnv(stack),
      cwd: tmpdir(),
    });
    expect(run.stderr).toMatch(/^signet: signed: /);
    expect(run.status).toBe(0);
  });

  it('runs the build when it is at least as new as the sources', async () => {
    const dir = layout({ nodeModules: true });
    fakeBuild(dir, 60);
    const run = await runCli(['--version'], { entry: [join(dir, 'bin/signet.js')] });
    expect(run).toMatchObject({ status: 7, stdout: 'from the build\n' });
  });

  it('runs the sources when they changed after the build', async () => {
    const dir = layout({ nodeModules: true });
    fakeBuild(dir, -60);
    const run = await runCli(['--version'], { entry: [join(dir, 'bin/signet.js')] });
    expect(run).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('runs an older build when tsx is not installed to run the sources', async () => {
    const dir = layout({ nodeModules: false });
    fakeBuild(dir, -60);
    const run = await runCli(['--version'], { entry: [join(dir, 'bin/signet.js')] });
    expect(run).toMatchObject({ status: 7, stdout: 'from the build\n' });
  });

  it('with neither a build nor tsx, says how to build and exits 3', async () => {
    const dir = layout({ nodeModules: false });
    const run = await runCli(['--version'], { entry: [join(dir, 'bin/signet.js')] });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('run `npm run build`');
  });

  it('is executable through its shebang', async () => {
    const dir = layout({ nodeModules: true });
    chmodSync(join(dir, 'bin/signet.js'), 0o755);
    const { stdout } = await promisify(execFile)(join(dir, 'bin/signet.js'), ['--version'], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toBe(`${version}\n`);
  });

  it('is what `npx signet` runs in the checkout, without fetching anything', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--offline', 'signet', '--version'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() },
    });
    expect(stdout).toBe(`${version}\n`);
  });
});
