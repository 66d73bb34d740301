/**
 * Prints the README's performance table from `bench/results/latest.json`
 * (`npm run bench-table`), so the table always shows the figures of the last
 * full run, exactly as `npm run bench` printed them, with the machine it ran on.
 * `npm run bench-table -- --write` puts it into README.md between its markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { MachineFacts } from '../bench/lib/machine.js';
import { renderTable, type ScenarioResult } from '../bench/lib/report.js';

interface LatestRun {
  mode: string;
  machine: MachineFacts;
  durationMs: number;
  targets: { met: number; missed: number };
  invariantsBroken: string[];
  crashed: string[];
  scenarios: ScenarioResult[];
}

const write = process.argv.includes('--write');
const path = process.argv.slice(2).find((arg) => arg !== '--write') ?? new URL('../bench/results/latest.json', import.meta.url);
const run = JSON.parse(readFileSync(path, 'utf8')) as LatestRun;
if (run.mode !== 'full') throw new Error(`${String(path)} is a ${run.mode} run; the README shows full runs only`);

const { machine } = run;
const gib = Math.round(machine.totalMemoryBytes / 2 ** 30);
const facts =
  `${machine.cpuCount} x ${machine.cpuModel}, ${gib} GiB, node ${machine.node}, ${machine.date.slice(0, 10)}, ` +
  `load average at start ${machine.loadAverageAtStart.join(' ')}, ${Math.round(run.durationMs / 60_000)} min`;
const verdict =
  `targets: ${run.targets.met} met, ${run.targets.missed} missed` +
  (run.invariantsBroken.length > 0 ? `; invariants broken: ${run.invariantsBroken.join(', ')}` : '') +
  (run.crashed.length > 0 ? `; crashed: ${run.crashed.join(', ')}` : '');

const table = ['```', facts, '', renderTable(run.scenarios), '', verdict, '```'].join('\n');

if (write) {
  const readmeUrl = new URL('../README.md', import.meta.url);
  const readme = readFileSync(readmeUrl, 'utf8');
  const [before, rest] = readme.split('<!-- bench-table:start -->');
  const after = rest?.split('<!-- bench-table:end -->')[1];
  if (before === undefined || after === undefined) throw new Error('README.md has no bench-table markers');
  writeFileSync(readmeUrl, `${before}<!-- bench-table:start -->\n${table}\n<!-- bench-table:end -->${after}`);
} else {
  console.log(table);
}
