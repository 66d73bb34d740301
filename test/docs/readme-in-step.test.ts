import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('the README stays in step with the code', () => {
  it('its configuration table is exactly what `npm run config-table` prints', () => {
    const table = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/print-config-table.ts'], { encoding: 'utf8' }).trim();
    const between = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0]?.trim();
    expect(between).toBe(table);
    for (const variable of Object.keys(environmentSchema.shape)) expect(table).toContain(`| \`${variable}\` |`);
  });

  it('its performance table is exactly what `npm run bench-table` prints from bench/results/latest.json', () => {
    const table = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/print-bench-table.ts'], { encoding: 'utf8' }).trim();
    const between = readme.split('<!-- bench-table:start -->')[1]?.split('<!-- bench-table:end -->')[0]?.trim();
    expect(between).toBe(table);
  });

  it('every `npm run <script>` it names exists', () => {
    const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(Object.keys(packageJson.scripts), script).toContain(script);
  });

  it('the quick start is the demo and the test command', () => {
    const quickStart = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    expect(quickStart).toContain('npm ci && npm run demo');
    expect(quickStart).toContain('npm test');
  });
});
