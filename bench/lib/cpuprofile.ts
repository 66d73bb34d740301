import { readFileSync } from 'node:fs';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self and total time per
 * function and self time per package or file, so that a profile can be read
 * without DevTools.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionTime {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded (ms). */
  busyMs: number;
  idleMs: number;
  byFunction: FunctionTime[];
  /** The same functions ranked by total (inclusive) time: where the time goes from the top down. */
  byTotal: FunctionTime[];
  /** Self time per package (node_modules/<pkg>), Signet file, node internals, GC... */
  byOwner: { owner: string; selfMs: number; selfPct: number }[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Who owns a frame: a package, a dist/ file of Signet, node itself, or V8's own bookkeeping. */
export function ownerOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const url = frame.url;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1).replace(/^file:\/\//, '');
  return shortUrl(url);
}

export interface SummaryOptions {
  top?: number;
  /**
   * Only samples taken in this window, in microseconds of the monotonic clock
   * (`process.hrtime.bigint() / 1000n` in any process of this machine: V8 and
   * libuv both read CLOCK_MONOTONIC). Leaves out start-up and cache warming.
   */
  fromUs?: number;
  toUs?: number;
}

export function summariseProfile(file: string, options: SummaryOptions = {}): ProfileSummary {
  const top = options.top ?? 30;
  const fromUs = options.fromUs ?? -Infinity;
  const toUs = options.toUs ?? Infinity;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}\u0000${shortUrl(frame.url)}:${frame.lineNumber + 1}`;

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const owners = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample; attribute sample i the time until the next one.
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += delta;
      continue;
    }
    busyUs += delta;
    const key = keyOf(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + delta);
    const owner = ownerOf(node.callFrame);
    owners.set(owner, (owners.get(owner) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') break;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + delta);
    }
  }
  const pct = (us: number) => (busyUs === 0 ? 0 : Math.round((1000 * us) / busyUs) / 10);
  const ms = (us: number) => Math.round(us / 100) / 10;
  const describe = (key: string): FunctionTime => {
    const [name, where] = key.split('\u0000') as [string, string];
    const s = self.get(key) ?? 0;
    const t = total.get(key) ?? s;
    return { name, where, selfMs: ms(s), selfPct: pct(s), totalMs: ms(t), totalPct: pct(t) };
  };
  const byFunction = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key]) => describe(key));
  const byTotal = [...total.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top * 2)
    .map(([key]) => describe(key));
  const byOwner = [...owners.entries()].sort((a, b) => b[1] - a[1]).map(([owner, us]) => ({ owner, selfMs: ms(us), selfPct: pct(us) }));
  return { busyMs: ms(busyUs), idleMs: ms(idleUs), byFunction, byTotal, byOwner };
}

export function renderProfile(summary: ProfileSummary, topOwners = 15): string {
  const lines: string[] = [];
  lines.push(`busy ${summary.busyMs} ms sampled, idle ${summary.idleMs} ms`);
  lines.push('', 'self time by owner:');
  for (const o of summary.byOwner.slice(0, topOwners)) lines.push(`  ${o.selfPct.toFixed(1).padStart(5)}%  ${o.owner}`);
  lines.push('', 'top functions by self time (self%, total%):');
  for (const f of summary.byFunction) {
    lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}% ${f.totalPct.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  }
  lines.push('', 'top functions by total time (total%, self%):');
  for (const f of summary.byTotal) {
    lines.push(`  ${f.totalPct.toFixed(1).padStart(5)}% ${f.selfPct.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  }
  return lines.join('\n');
}
