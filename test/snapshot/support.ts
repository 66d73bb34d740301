import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotEntry, SnapshotLog } from '../../src/signing/cache-snapshot.js';

export interface RecordedLog extends SnapshotLog {
  warnings: Array<{ obj: object; msg: string }>;
  infos: Array<{ obj: object; msg: string }>;
}

export function recordingLog(): RecordedLog {
  const warnings: RecordedLog['warnings'] = [];
  const infos: RecordedLog['infos'] = [];
  return {
    warnings,
    infos,
    warn: (obj, msg) => warnings.push({ obj, msg }),
    info: (obj, msg) => infos.push({ obj, msg }),
  };
}

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-snapshot-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The i-th md5 of a deterministic population. */
export function md5Of(i: number): string {
  return i.toString(16).padStart(32, '0');
}

/** `count` entries stored `spacingMs` apart up to `now`, every third one unsigned. */
export function population(count: number, now: number, spacingMs = 1000): SnapshotEntry[] {
  const entries: SnapshotEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const signed = i % 3 !== 0;
    entries[i] = {
      md5: md5Of(i),
      storedAt: now - (count - i) * spacingMs,
      ttlMs: signed ? 86_400_000 : 3_600_000,
      verdict: signed ? true : `tool-${i}.exe`,
    };
  }
  return entries;
}
