/**
 * The image's runtime stage reproduced without Docker: the files its COPY
 * lines take (package manifests, production node_modules, dist/) in a
 * temporary directory, production dependencies only, started with the
 * image's CMD against the simulator, probed, asked one lookup, then stopped
 * with SIGTERM. It catches a dependency listed under devDependencies that
 * the compiled service needs, a dist/ that does not start, or a CMD that is wrong.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Cmd } from 'dockerfile-ast';
import { DockerfileParser } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startServerProcess } from '../support/server-process.js';
import { repoRoot } from './manifests.js';

const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const instructions = dockerfile.getInstructions();
const runtimeStart = instructions.map((instruction) => instruction.getKeyword()).lastIndexOf('FROM');
const runtime = instructions.slice(runtimeStart);
const cmd = runtime.find((instruction) => instruction.getKeyword() === 'CMD') as Cmd;
/** Exec-form CMD, e.g. ["node", "dist/server.js"]. */
const command = JSON.parse(cmd.getArgumentsContent() ?? '[]') as string[];
/** Sources the runtime stage COPYs (from the context or from earlier stages). */
const copied = runtime
  .filter((instruction) => instruction.getKeyword() === 'COPY')
  .flatMap((instruction) =>
    instruction
      .getArguments()
      .map((argument) => argument.getValue())
      .filter((value) => !value.startsWith('--'))
      .slice(0, -1),
  );

/** The compiled files, relative to dist/, that the bin launchers of package.json run (`dist/cli/main.js`). */
function cliEntries(): string[] {
  const { bin } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  return Object.values(bin ?? {}).flatMap((launcher) =>
    [...readFileSync(join(repoRoot, launcher), 'utf8').matchAll(/'dist\/([^']+\.js)'/g)].map(([, file]) => file!),
  );
}

const TOKEN = 'bundle-test-token';
const KEY = 'bundle-test-key-0123456789';
let bundle: string;
let simulator: SimulatorInstance;
let simulatorUrl: string;

beforeAll(async () => {
  bundle = mkdtempSync(join(tmpdir(), 'signet-bundle-'));
  // What the build stage produces, compiled straight into the bundle.
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(bundle, 'dist')],
    { stdio: 'inherit' },
  );
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, file), join(bundle, file));
  // What the deps stage produces: production dependencies only, exactly as locked.
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: bundle,
    stdio: 'inherit',
  });
  simulator = await buildSimulator({ token: TOKEN });
  simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
}, 240_000);

afterAll(async () => {
  await simulator?.close();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
});

describe('the production bundle', () => {
  it('holds what the Dockerfile copies and nothing the build needs', () => {
    expect(copied.map((source) => source.split('/').at(-1)).sort()).toEqual(['dist', 'node_modules', 'package-lock.json', 'package.json']);
    expect(() => execFileSync('npm', ['ls', 'typescript', 'vitest', 'tsx'], { cwd: bundle, stdio: 'pipe' })).toThrow();
  });

  it('holds no simulator or demo code, and every compiled file is reached from the entry point', () => {
    const dist = join(bundle, 'dist');
    const compiled = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
    expect(compiled.filter((file) => /simulator|demo/.test(file))).toEqual([]);
    for (const file of compiled) expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(/buildSimulator|simulator\//);
    // Follow the relative imports from the image's entry point, and from the command-line client's (the compiled
    // file package.json's bin launcher runs): a file neither reaches is one nothing can run.
    const entry = relative(dist, join(bundle, command[1] ?? ''));
    const reached = new Set<string>();
    const pending = [entry, ...cliEntries()];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      const source = readFileSync(join(dist, file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
        pending.push(relative(dist, join(dist, dirname(file), specifier!)));
      }
    }
    // A module of types only compiles to `export {};`: nothing to run, nothing imports it at run time.
    const typesOnly = (file: string) => /^export \{\};\s*(?:\/\/# sourceMappingURL=\S+)?\s*$/.test(readFileSync(join(dist, file), 'utf8'));
    expect([...reached].sort()).toEqual(compiled.filter((file) => !typesOnly(file)).sort());
  });

  it('starts with the image command, answers probes and a lookup, and stops cleanly on SIGTERM', async () => {
    expect(command[0]).toBe('node');
    const server = await startServerProcess(
      { NODE_ENV: 'production', CB_URL: simulatorUrl, CB_API_TOKEN: TOKEN, API_KEYS: `bundle:${KEY}` },
      command.slice(1).map((argument) => join(bundle, argument)),
    );
    await expect.poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    const response = await fetch(`${server.url}/v1/signatures/${samples.signed.md5}?name=git`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ signed: true });
    server.child.kill('SIGTERM');
    expect(await server.exit).toEqual({ code: 0, signal: null });
  });
});
