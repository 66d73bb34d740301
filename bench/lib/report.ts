import { round } from './stats.js';

/** One line of the results table: a figure, its baseline from the same run, and its target. */
export interface Figure {
  scenario: string;
  figure: string;
  unit: string;
  /** Median of the rounds. */
  value: number;
  baseline?: number;
  baselineLabel?: string;
  /** value / baseline. */
  ratio?: number;
  /** The target in words, e.g. ">= 0.8 x bare". */
  target?: string;
  /** Whether the target is met (undefined: no target). */
  met?: boolean;
  /**
   * A correctness invariant rather than a speed target (peak <= bound,
   * exactly one upstream request): a break fails the run, a slow figure never does.
   */
  invariant?: boolean;
  /** Every round's value (and baseline), in run order. */
  rounds?: number[];
  baselineRounds?: number[];
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  figures: Figure[];
  notes: string[];
  /** Anything else worth keeping (per-round details). */
  raw: unknown;
  /** Set when the scenario crashed. */
  error?: string;
  durationMs: number;
  /** os.loadavg() when the scenario ended: other work on the machine skews absolute figures. */
  loadAverageAfter?: number[];
}

function formatNumber(value: number | undefined, unit = ''): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  let text: string;
  if (abs >= 1000) text = Math.round(value).toLocaleString('en-US');
  else if (abs >= 100) text = value.toFixed(0);
  else if (abs >= 10) text = value.toFixed(1);
  else if (abs >= 1) text = value.toFixed(2);
  else text = value.toFixed(3);
  return unit ? `${text} ${unit}` : text;
}

export function renderTable(scenarios: readonly ScenarioResult[]): string {
  const header = ['scenario', 'figure', 'value', 'baseline', 'ratio', 'target', 'met?'];
  const rows: string[][] = [];
  for (const scenario of scenarios) {
    if (scenario.error !== undefined) {
      rows.push([scenario.title, 'CRASHED', scenario.error.split('\n', 1)[0]!.slice(0, 60), '', '', '', 'ERROR']);
      continue;
    }
    for (const f of scenario.figures) {
      rows.push([
        f.scenario,
        f.figure,
        formatNumber(f.value, f.unit),
        f.baseline === undefined ? '' : `${formatNumber(f.baseline, f.unit)}${f.baselineLabel ? ` (${f.baselineLabel})` : ''}`,
        f.ratio === undefined ? '' : Number.isFinite(f.ratio) ? round(f.ratio, 3).toFixed(3) : 'n/a',
        f.target ?? '',
        f.met === undefined ? '' : f.met ? 'met' : f.invariant ? 'BROKEN' : 'missed',
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
