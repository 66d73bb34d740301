import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotEntry, SnapshotLog } from '../../src/signing/cache-snapshot.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { JoinedSignature, UnknownBinary, type CachedVerdict } from '../../src/signing/verdict.js';

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

/** The warnings readSnapshot gives for a file it refuses. */
export const CORRUPT_WARNING = 'cache snapshot is corrupt or truncated; starting with an empty cache';
export const SKIPPED_WARNING = 'cache snapshot skipped; starting with an empty cache';

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-snapshot-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The i-th md5 of a deterministic population. */
export function md5Of(i: number): string {
  return i.toString(16).padStart(32, '0');
}

/** The service's default lifetimes, by verdict kind. */
export const TTL = { signed: 86_400_000, unsigned: 3_600_000, unknown: 600_000 } as const;

/** [publisher, issuer, subject, programName]: a handful of signers shared by most binaries, as in a real fleet. */
export const PUBLISHERS: ReadonlyArray<readonly [string, string, string, string | null]> = [
  ['Microsoft Corporation', 'Microsoft Code Signing PCA 2011', 'Microsoft Corporation', 'Microsoft® Windows® Operating System'],
  ['Apple Inc.', 'Apple Code Signing Certification Authority', 'Software Signing', 'git'],
  ['Google LLC', 'DigiCert SHA2 Assured ID Code Signing CA', 'Google LLC', 'Google Chrome'],
  ['Python Software Foundation', 'DigiCert SHA2 Assured ID Code Signing CA', 'Python Software Foundation', 'Python'],
  // A Microsoft driver whose signature has no program name.
  ['Microsoft Windows', 'Microsoft Windows Production PCA 2011', 'Microsoft Windows', null],
];

/** A plausible digsig_sign_time for the i-th binary, epoch seconds (2017 onwards). */
export function signedAtOf(i: number): number {
  return 1_490_000_000 + i * 37;
}

/**
 * The verdict of the i-th binary of a binary-record population, from one
 * interner (so facts are shared, as in the live cache):
 * - i % 10 === 0: unknown (no record);
 * - i % 10 === 1: `Unsigned`, no signer, no signing time (one SignatureFacts for all of them);
 * - i % 10 === 2: `Expired`, a signer and a signing time;
 * - i % 10 === 9: `Signed` by one of PUBLISHERS, its record without a signing time;
 * - otherwise `Signed` by one of PUBLISHERS, with a signing time.
 * The first binary of each signature gets the facts themselves, with its own
 * time in them (`f:` in a file); the others a DatedSignature (`d:`).
 * From 50 binaries on, that is 11 distinct signatures.
 */
export function binaryVerdictOf(i: number, interner: SignatureInterner): CachedVerdict {
  const kind = i % 10;
  if (kind === 0) return UnknownBinary.instance;
  if (kind === 1) return interner.facts('Unsigned', null, null, null, null, null);
  // Signed and expired binaries spread over every signer.
  const [publisher, issuer, subject, programName] = PUBLISHERS[(i + Math.floor(i / 10)) % PUBLISHERS.length]!;
  return interner.entryFor({
    digsigResult: kind === 2 ? 'Expired' : 'Signed',
    publisher,
    issuer,
    subject,
    programName: programName ?? undefined,
    signedAtMs: kind === 9 ? undefined : signedAtOf(i) * 1000,
  });
}

export function ttlOfBinary(i: number): number {
  const kind = i % 10;
  return kind === 0 ? TTL.unknown : kind <= 2 ? TTL.unsigned : TTL.signed;
}

/**
 * `count` binary-record entries stored `spacingMs` apart up to `now` (see
 * binaryVerdictOf): 70% signed by five shared signers (60% with a signing
 * time, 10% without), 10% `Unsigned` without one, 10% `Expired`, 10% unknown.
 */
export function population(count: number, now: number, spacingMs = 1000): SnapshotEntry[] {
  const interner = new SignatureInterner();
  const entries: SnapshotEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    entries[i] = { md5: md5Of(i), storedAt: now - (count - i) * spacingMs, ttlMs: ttlOfBinary(i), verdict: binaryVerdictOf(i, interner) };
  }
  return entries;
}

/** `count` joined-search entries: every third one "no row for tool-<i>.exe", the others a row found for it. */
export function joinedPopulation(count: number, now: number, spacingMs = 1000): SnapshotEntry[] {
  const entries: SnapshotEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const signed = i % 3 !== 0;
    entries[i] = {
      md5: md5Of(i),
      storedAt: now - (count - i) * spacingMs,
      ttlMs: signed ? TTL.signed : TTL.unsigned,
      verdict: signed ? new JoinedSignature(`tool-${i}.exe`) : `tool-${i}.exe`,
    };
  }
  return entries;
}
