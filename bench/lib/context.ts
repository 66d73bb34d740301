import type { BenchSettings } from './settings.js';

export interface BenchContext {
  settings: BenchSettings;
  /** Compiled bench targets by name (bare-fastify, memory-probe). */
  targets: Record<string, string>;
  log(message: string): void;
}

export function target(ctx: BenchContext, name: string): string {
  const path = ctx.targets[name];
  if (path === undefined) throw new Error(`bench target ${name} was not compiled`);
  return path;
}
