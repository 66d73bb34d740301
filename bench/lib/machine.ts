import { cpus, freemem, loadavg, platform, release, totalmem, arch } from 'node:os';
import { availableParallelism } from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cpuCount: number;
  availableParallelism: number;
  cpuSpeedMHz: number;
  totalMemoryBytes: number;
  freeMemoryBytesAtStart: number;
  loadAverageAtStart: number[];
  platform: string;
  osRelease: string;
  arch: string;
  node: string;
  v8: string;
  date: string;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    availableParallelism: availableParallelism(),
    cpuSpeedMHz: list[0]?.speed ?? 0,
    totalMemoryBytes: totalmem(),
    freeMemoryBytesAtStart: freemem(),
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    platform: platform(),
    osRelease: release(),
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
  };
}
