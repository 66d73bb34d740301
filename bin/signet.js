#!/usr/bin/env node
/*
 * The `signet` command (package.json "bin"). It runs the compiled client,
 * dist/cli/main.js, when that is built and at least as new as its sources;
 * otherwise, in a checkout, the sources through tsx (a devDependency), so that
 * `npx signet` works right after `npm ci`, without a build, and never runs a
 * stale build after an edit. With neither, it says how to build.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const sources = new URL('src/cli/', root);
const EXIT_ERROR = 3;

/** Newest modification time among the client's sources, or -1 when there are none. */
function newestSource() {
  if (!existsSync(sources)) return -1;
  return Math.max(-1, ...readdirSync(sources).map((file) => statSync(new URL(file, sources)).mtimeMs));
}

async function fromSources() {
  if (!existsSync(new URL('main.ts', sources))) return false;
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    return false;
  }
  // The package's own compiler settings, not those of whatever project the command is run from.
  const tsconfig = new URL('tsconfig.json', root);
  register(existsSync(tsconfig) ? { tsconfig: fileURLToPath(tsconfig) } : {});
  await import(new URL('main.ts', sources).href);
  return true;
}

const hasBuild = existsSync(built);
if (hasBuild && statSync(built).mtimeMs >= newestSource()) {
  await import(built.href);
} else if (!(await fromSources())) {
  if (hasBuild) {
    // Older than the sources, but tsx is not installed to run those: the build is what there is.
    await import(built.href);
  } else {
    process.stderr.write('signet: the client is not built: run `npm run build` (or `npm ci` in a checkout, to run it from the sources)\n');
    process.exitCode = EXIT_ERROR;
  }
}
