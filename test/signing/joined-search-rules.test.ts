import { describe, expect, it } from 'vitest';
import type { Lookup, LookupOptions, SignatureServiceOptions } from '../../src/signing/signature-service.js';
import { SignatureService } from '../../src/signing/signature-service.js';
import { verdictKind } from '../../src/signing/verdict.js';
import { joinedSearchSource } from '../../src/backends/edr/verdict-sources.js';

const SIGNED_MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const UNSIGNED_MD5 = '3d485deffe2f74d0c15f1cb23086f936';

interface HarnessOptions extends Partial<SignatureServiceOptions> {
  /** CB_JOIN_FIELD=digsig_result: the join ignores the name. */
  nameIndependent?: boolean;
  search?: (md5: string, name: string) => Promise<boolean>;
}

/**
 * CB_VERDICT_SOURCE=joined-search over a fake upstream: `git` is signed,
 * everything else unsigned; every call is recorded. Lookups come back with
 * `signed` added, the first round's view of a verdict.
 */
function harness(overrides: HarnessOptions = {}) {
  let clock = Date.UTC(2026, 10, 27, 12, 0, 0);
  const calls: Array<{ md5: string; name: string }> = [];
  const {
    nameIndependent = false,
    search = async (md5: string, name: string) => {
      calls.push({ md5, name });
      return md5 === SIGNED_MD5 && name.toLowerCase() === 'git';
    },
    ...rest
  } = overrides;
  const real = new SignatureService({
    maxEntries: 100,
    ttlSignedSeconds: 3600,
    ttlUnsignedSeconds: 60,
    ttlUnknownSeconds: 30,
    staleIfErrorSeconds: 0,
    staleWhileRevalidateSeconds: 0,
    source: joinedSearchSource(search, { nameTested: !nameIndependent }),
    now: () => clock,
    ...rest,
  });
  const withSigned = (lookup: Lookup) => ({ ...lookup, signed: verdictKind(lookup.entry) === 'signed' });
  const service = {
    lookup: async (md5: string, name: string, options?: LookupOptions) => withSigned(await real.lookup(md5, name, options)),
    forget: (md5: string) => real.forget(md5),
    stats: () => real.stats(),
  };
  return { service, calls, advance: (ms: number) => (clock += ms), now: () => clock };
}

describe('verdict rules, joined-search mode (the seed method)', () => {
  it('a signed verdict answers any name from the cache', async () => {
    const { service, calls } = harness();
    expect((await service.lookup(SIGNED_MD5, 'git')).signed).toBe(true);
    const other = await service.lookup(SIGNED_MD5, 'something-else.exe');
    expect(other).toMatchObject({ signed: true, status: 'hit' });
    expect(calls).toHaveLength(1);
  });

  it('an unsigned verdict answers only the same name, case-insensitively', async () => {
    const { service, calls } = harness();
    expect(await service.lookup(UNSIGNED_MD5, 'Tool.exe')).toMatchObject({ signed: false, status: 'miss' });
    expect(await service.lookup(UNSIGNED_MD5, 'TOOL.EXE')).toMatchObject({ signed: false, status: 'hit' });
    expect(calls).toHaveLength(1);
    expect(await service.lookup(UNSIGNED_MD5, 'other.exe')).toMatchObject({ signed: false, status: 'miss' });
    expect(calls).toEqual([
      { md5: UNSIGNED_MD5, name: 'Tool.exe' },
      { md5: UNSIGNED_MD5, name: 'other.exe' },
    ]);
  });

  it('a signed result for another name replaces an unsigned entry', async () => {
    const { service, calls } = harness();
    expect((await service.lookup(SIGNED_MD5, 'chrome')).signed).toBe(false);
    expect((await service.lookup(SIGNED_MD5, 'git')).signed).toBe(true);
    expect(await service.lookup(SIGNED_MD5, 'chrome')).toMatchObject({ signed: true, status: 'hit' });
    expect(calls).toHaveLength(2);
  });

  it('with a name-independent join an unsigned verdict answers every name', async () => {
    const { service, calls } = harness({ nameIndependent: true });
    await service.lookup(UNSIGNED_MD5, 'a');
    expect(await service.lookup(UNSIGNED_MD5, 'b')).toMatchObject({ signed: false, status: 'hit' });
    expect(calls).toHaveLength(1);
  });

  it('verdicts expire after their own lifetime', async () => {
    const { service, calls, advance } = harness();
    await service.lookup(SIGNED_MD5, 'git');
    await service.lookup(UNSIGNED_MD5, 'x');
    advance(61_000);
    expect((await service.lookup(SIGNED_MD5, 'git')).status).toBe('hit');
    expect((await service.lookup(UNSIGNED_MD5, 'x')).status).toBe('miss');
    advance(3600_000);
    expect((await service.lookup(SIGNED_MD5, 'git')).status).toBe('miss');
    expect(calls).toHaveLength(4);
  });

  it('reports when a verdict was stored and when it expires', async () => {
    const { service, advance, now } = harness();
    const storedAt = now();
    await service.lookup(SIGNED_MD5, 'git');
    advance(5000);
    const hit = await service.lookup(SIGNED_MD5, 'git');
    expect(hit).toMatchObject({ storedAt, expiresAt: storedAt + 3600_000, status: 'hit' });
  });

  it('an upstream failure is an error, never a verdict, and is not cached', async () => {
    let fail = true;
    const calls: string[] = [];
    const { service } = harness({
      search: async (md5) => {
        calls.push(md5);
        if (fail) throw new Error('upstream down');
        return true;
      },
    });
    await expect(service.lookup(SIGNED_MD5, 'git')).rejects.toThrow('upstream down');
    expect(service.stats().size).toBe(0);
    fail = false;
    expect(await service.lookup(SIGNED_MD5, 'git')).toMatchObject({ signed: true, status: 'miss' });
    expect(calls).toHaveLength(2);
  });

  it('concurrent lookups of one md5 share one search and say so', async () => {
    let release!: (signed: boolean) => void;
    let calls = 0;
    const { service } = harness({
      search: () => {
        calls++;
        return new Promise<boolean>((resolve) => (release = resolve));
      },
    });
    const lookups = Array.from({ length: 50 }, () => service.lookup(SIGNED_MD5, 'git'));
    release(true);
    const results = await Promise.all(lookups);
    expect(calls).toBe(1);
    expect(results.filter((r) => r.status === 'miss')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'coalesced')).toHaveLength(49);
  });

  it('concurrent lookups of an unsigned md5 under different names each get their own answer', async () => {
    const { service, calls } = harness();
    const [a, b, c] = await Promise.all([
      service.lookup(SIGNED_MD5, 'chrome'),
      service.lookup(SIGNED_MD5, 'git'),
      service.lookup(SIGNED_MD5, 'chrome'),
    ]);
    expect(a?.signed).toBe(false);
    expect(b?.signed).toBe(true);
    expect(c?.signed).toBe(false);
    expect(calls.map((call) => call.name).sort()).toEqual(['chrome', 'git']);
  });

  it('forgets an md5 on request and counts hits and misses', async () => {
    const { service, calls } = harness();
    await service.lookup(SIGNED_MD5, 'git');
    await service.lookup(SIGNED_MD5, 'git');
    service.forget(SIGNED_MD5);
    await service.lookup(SIGNED_MD5, 'git');
    expect(calls).toHaveLength(2);
    expect(service.stats()).toEqual({ size: 1, maxEntries: 100, hits: 1, misses: 2, hitRatio: 1 / 3 });
  });

  it('a fresh lookup asks Carbon Black even when a fresh entry exists', async () => {
    const { service, calls } = harness();
    await service.lookup(SIGNED_MD5, 'git');
    expect((await service.lookup(SIGNED_MD5, 'git', { fresh: true })).status).toBe('miss');
    expect(calls).toHaveLength(2);
  });
});
