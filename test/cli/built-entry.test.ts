/**
 * The compiled client: `npm run build` puts it in dist/cli/ beside the
 * service (tsconfig.build.json takes all of src/ but the simulator and the
 * demo), with its shebang, and it works from there. Compiled here into a
 * temporary directory, as the production bundle test does, so the
 * checkout's dist/ is not touched.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { CliStack } from './support.js';
import { cliEnv, jsonLines, repoRoot, runCli, startCliStack } from './support.js';

let stack: CliStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signet-built-cli-'));
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
    {
      stdio: 'inherit',
    },
  );
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  stack = await startCliStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built client', () => {
  it('starts with the shebang bin needs', () => {
    expect(readFileSync(join(dir, 'dist/cli/main.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('imports only production dependencies, which the image and an install without devDependencies hold', () => {
    const { dependencies } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = readdirSync(join(dir, 'dist/cli')).filter((file) => file.endsWith('.js'));
    const packages = new Set(
      files.flatMap((file) =>
        [...readFileSync(join(dir, 'dist/cli', file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)]
          .map(([, specifier]) => specifier!)
          .filter((specifier) => !specifier.startsWith('node:'))
          .map((specifier) =>
            specifier
              .split('/')
              .slice(0, specifier.startsWith('@') ? 2 : 1)
              .join('/'),
          ),
      ),
    );
    expect([...packages].sort()).toEqual(['cli-progress', 'commander', 'csv-parse']);
    for (const name of packages) expect(Object.keys(dependencies), name).toContain(name);
  });

  it('answers a lookup and a batch from dist/', async () => {
    const entry = [join(dir, 'dist/cli/main.js')];
    const lookup = await runCli(['lookup', samples.unsigned.md5, '--name', samples.unsigned.name], { entry, env: cliEnv(stack) });
    expect(lookup.status).toBe(1);
    const batch = await runCli(['batch'], { entry, env: cliEnv(stack), stdin: `md5,name\n${samples.signed.md5},git\n` });
    expect(batch.status).toBe(0);
    expect(jsonLines(batch.stdout)).toMatchObject([{ verdict: 'signed' }]);
  });
});
