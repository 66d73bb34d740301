/**
 * The Docker build context: .dockerignore keeps local state, build output and
 * secrets out of it, without hiding anything the Dockerfile copies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Copy } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './manifests.js';

const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** Normalises a pattern the way Docker does: no leading "/" or "./", no trailing "/". */
const normalise = (pattern: string) => pattern.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');

/** A small subset of Docker's matcher (Go filepath.Match plus "**"), enough for these patterns. */
function toRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern that matches a directory also excludes everything below it.
  return new RegExp(`^${source}(/.*)?$`);
}

/** Whether Docker would leave this context path out (last matching pattern wins, "!" re-includes). */
function ignored(path: string): boolean {
  let result = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    if (toRegExp(normalise(negated ? raw.slice(1) : raw)).test(path)) result = !negated;
  }
  return result;
}

describe('.dockerignore', () => {
  it.each(['node_modules', 'dist', 'test-artifacts', '.git', 'bench/results', 'coverage'])('excludes %s', (path) => {
    expect(ignored(path)).toBe(true);
    expect(ignored(`${path}/some/file`)).toBe(true);
  });

  it.each(['.env', '.env.local', 'debug.log'])('excludes local files that may hold secrets or noise: %s', (path) => {
    expect(ignored(path)).toBe(true);
  });

  it('keeps every file the Dockerfile copies from the build context', () => {
    const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
    const fromContext = (dockerfile.getCOPYs() as Copy[]).filter((copy) => copy.getFromFlag() === null);
    const sources = fromContext.flatMap((copy) =>
      copy
        .getArguments()
        .slice(0, -1)
        .map((a) => normalise(a.getValue())),
    );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of sources) expect(ignored(source), source).toBe(false);
    expect(ignored('src/server.ts')).toBe(false);
  });
});
