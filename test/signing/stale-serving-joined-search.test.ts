import { describe, expect, it } from 'vitest';
import type { Lookup, LookupOptions, SignatureServiceOptions } from '../../src/signing/signature-service.js';
import { SignatureService } from '../../src/signing/signature-service.js';
import { JoinedSignature, verdictKind } from '../../src/signing/verdict.js';
import { joinedSearchSource } from '../../src/backends/edr/verdict-sources.js';

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const OTHER_MD5 = '3d485deffe2f74d0c15f1cb23086f936';
const TTL_SIGNED_S = 3600;
const TTL_UNSIGNED_S = 60;
const STALE_IF_ERROR_S = 600;
const SWR_S = 30;

type Answer = boolean | Error;

interface PendingSearch {
  md5: string;
  name: string;
  settle: (answer: Answer) => void;
}

/**
 * SignatureService over a fake search the test drives, and a clock it moves.
 * `answer` decides every search at once; with `answer: 'manual'` each search
 * stays pending in `pending` until the test settles it.
 */
function harness(overrides: Partial<SignatureServiceOptions> = {}) {
  let clock = Date.UTC(2026, 10, 27, 12, 0, 0);
  let answer: Answer | 'manual' = true;
  const calls: Array<{ md5: string; name: string }> = [];
  const pending: PendingSearch[] = [];
  const search = (md5: string, name: string): Promise<boolean> => {
    calls.push({ md5, name });
    if (answer === 'manual') {
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ md5, name, settle: (a) => (a instanceof Error ? reject(a) : resolve(a)) });
      });
    }
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const real = new SignatureService({
    maxEntries: 100,
    ttlSignedSeconds: TTL_SIGNED_S,
    ttlUnsignedSeconds: TTL_UNSIGNED_S,
    ttlUnknownSeconds: 30,
    staleIfErrorSeconds: STALE_IF_ERROR_S,
    staleWhileRevalidateSeconds: 0,
    source: joinedSearchSource(search, { nameTested: true }),
    now: () => clock,
    ...overrides,
  });
  // Lookups come back with `signed`, the joined search's two-state view of a verdict.
  const withSigned = <T extends Lookup | undefined>(lookup: T) =>
    lookup === undefined ? undefined : { ...lookup, signed: verdictKind(lookup.entry) === 'signed' };
  const service = {
    lookup: async (md5: string, name: string, options?: LookupOptions) => withSigned(await real.lookup(md5, name, options))!,
    lookupCached: (md5: string, name: string) => withSigned(real.lookupCached(md5, name)),
    stats: () => real.stats(),
  };
  return {
    service,
    calls,
    pending,
    /** What every following search answers: a verdict, an error, or 'manual'. */
    answerWith: (next: Answer | 'manual') => (answer = next),
    advance: (ms: number) => (clock += ms),
    now: () => clock,
  };
}

/** Lets queued promise callbacks (a background refresh settling) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const upstreamDown = () => new Error('Carbon Black is down');

describe('stale-if-error', () => {
  it('an expired verdict answers, marked stale with its original times, when the refresh fails', async () => {
    const { service, calls, answerWith, advance, now } = harness();
    const storedAt = now();
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    answerWith(upstreamDown());

    const stale = await service.lookup(MD5, 'git');
    expect(stale).toEqual({
      hash: MD5,
      name: 'git',
      entry: new JoinedSignature('git'),
      signed: true,
      status: 'stale',
      storedAt,
      expiresAt: storedAt + TTL_SIGNED_S * 1000,
    });
    // The refresh was tried first.
    expect(calls).toHaveLength(2);
    expect(service.stats().size).toBe(1);
  });

  it('serves stale up to exactly the end of the window, then fails with the upstream error', async () => {
    const { service, answerWith, advance } = harness();
    await service.lookup(MD5, 'git');
    answerWith(upstreamDown());
    advance((TTL_SIGNED_S + STALE_IF_ERROR_S) * 1000);
    expect((await service.lookup(MD5, 'git')).status).toBe('stale');
    advance(1);
    await expect(service.lookup(MD5, 'git')).rejects.toThrow('Carbon Black is down');
    // The entry is still there (a later success replaces it), but it is no longer served.
    expect(service.stats().size).toBe(1);
  });

  it('the window counts from the verdict’s own lifetime: unsigned verdicts expire sooner', async () => {
    const { service, answerWith, advance } = harness();
    answerWith(false);
    await service.lookup(OTHER_MD5, 'nc');
    answerWith(upstreamDown());
    advance((TTL_UNSIGNED_S + STALE_IF_ERROR_S) * 1000);
    expect(await service.lookup(OTHER_MD5, 'nc')).toMatchObject({ signed: false, status: 'stale' });
    advance(1);
    await expect(service.lookup(OTHER_MD5, 'nc')).rejects.toThrow('Carbon Black is down');
  });

  it('with staleIfErrorSeconds 0 an expired verdict is never served on error', async () => {
    const { service, answerWith, advance } = harness({ staleIfErrorSeconds: 0 });
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    answerWith(upstreamDown());
    await expect(service.lookup(MD5, 'git')).rejects.toThrow('Carbon Black is down');
  });

  it('an unsigned verdict for one name is not served stale for another name', async () => {
    const { service, answerWith, advance } = harness();
    answerWith(false);
    await service.lookup(OTHER_MD5, 'nc');
    advance(TTL_UNSIGNED_S * 1000 + 1);
    answerWith(upstreamDown());
    await expect(service.lookup(OTHER_MD5, 'netcat')).rejects.toThrow('Carbon Black is down');
    expect(await service.lookup(OTHER_MD5, 'NC')).toMatchObject({ signed: false, status: 'stale' });
  });

  it('a fresh (no-cache) lookup that fails falls back to the cached verdict: a hit while it is fresh, stale past its lifetime', async () => {
    const { service, calls, answerWith, advance, now } = harness();
    const storedAt = now();
    await service.lookup(MD5, 'git');
    advance(5000);
    answerWith(upstreamDown());
    expect(await service.lookup(MD5, 'git', { fresh: true })).toMatchObject({ signed: true, status: 'hit', storedAt });
    advance(TTL_SIGNED_S * 1000);
    expect(await service.lookup(MD5, 'git', { fresh: true })).toMatchObject({ signed: true, status: 'stale', storedAt });
    expect(calls).toHaveLength(3);
  });

  it('concurrent lookups of an expired verdict share one failing refresh and all get the stale verdict', async () => {
    const { service, calls, pending, answerWith, advance } = harness();
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    answerWith('manual');
    const lookups = Array.from({ length: 5 }, () => service.lookup(MD5, 'git'));
    await settle();
    expect(pending).toHaveLength(1);
    pending[0]!.settle(upstreamDown());
    const results = await Promise.all(lookups);
    expect(results.map((r) => r.status)).toEqual(['stale', 'stale', 'stale', 'stale', 'stale']);
    expect(calls).toHaveLength(2);
  });

  it('once Carbon Black answers again the refreshed verdict replaces the stale one', async () => {
    const { service, answerWith, advance, now } = harness();
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    answerWith(upstreamDown());
    expect((await service.lookup(MD5, 'git')).status).toBe('stale');
    answerWith(true);
    expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'miss', storedAt: now() });
    expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'hit', storedAt: now() });
  });
});

describe('stale-while-revalidate', () => {
  it('a just-expired verdict answers at once, marked stale, while one background refresh runs', async () => {
    const { service, calls, pending, answerWith, advance, now } = harness({ staleWhileRevalidateSeconds: SWR_S });
    const storedAt = now();
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    answerWith('manual');

    // Resolves although the refresh has not answered.
    expect(await service.lookup(MD5, 'git')).toMatchObject({ signed: true, status: 'stale', storedAt });
    expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'stale', storedAt });
    expect(pending).toHaveLength(1);
    expect(calls).toHaveLength(2);

    advance(1000);
    pending[0]!.settle(true);
    await settle();
    expect(service.lookupCached(MD5, 'git')).toMatchObject({ status: 'hit', storedAt: now() });
    expect(calls).toHaveLength(2);
  });

  it('serves stale up to exactly the end of the revalidate window; after it the caller waits for Carbon Black', async () => {
    const { service, calls, advance, now } = harness({ staleWhileRevalidateSeconds: SWR_S });
    await service.lookup(MD5, 'git');
    advance((TTL_SIGNED_S + SWR_S) * 1000);
    expect((await service.lookup(MD5, 'git')).status).toBe('stale');
    await settle();
    expect(calls).toHaveLength(2);

    advance((TTL_SIGNED_S + SWR_S) * 1000 + 1);
    expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'miss', storedAt: now() });
    expect(calls).toHaveLength(3);
  });

  it('a failed background refresh keeps the old verdict, serves it stale again, and raises nothing', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { service, calls, answerWith, advance, now } = harness({ staleWhileRevalidateSeconds: SWR_S });
      const storedAt = now();
      await service.lookup(MD5, 'git');
      advance(TTL_SIGNED_S * 1000 + 1);
      answerWith(upstreamDown());

      expect((await service.lookup(MD5, 'git')).status).toBe('stale');
      await settle();
      expect(calls).toHaveLength(2);
      expect(service.stats().size).toBe(1);
      // Each stale answer starts a new refresh attempt.
      expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'stale', storedAt });
      await settle();
      expect(calls).toHaveLength(3);

      // Past the revalidate window the stale-if-error window still applies.
      advance(SWR_S * 1000);
      expect(await service.lookup(MD5, 'git')).toMatchObject({ status: 'stale', storedAt });
      expect(calls).toHaveLength(4);
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a fresh (no-cache) lookup skips the stale shortcut and waits for Carbon Black', async () => {
    const { service, calls, advance, now } = harness({ staleWhileRevalidateSeconds: SWR_S });
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    expect(await service.lookup(MD5, 'git', { fresh: true })).toMatchObject({ status: 'miss', storedAt: now() });
    expect(calls).toHaveLength(2);
  });

  it('an unsigned verdict for one name is not served while revalidating for another name', async () => {
    const { service, calls, answerWith, advance } = harness({ staleWhileRevalidateSeconds: SWR_S });
    answerWith(false);
    await service.lookup(OTHER_MD5, 'nc');
    advance(TTL_UNSIGNED_S * 1000 + 1);
    expect(await service.lookup(OTHER_MD5, 'netcat')).toMatchObject({ name: 'netcat', signed: false, status: 'miss' });
    expect(calls.map((c) => c.name)).toEqual(['nc', 'netcat']);
  });

  it('with staleWhileRevalidateSeconds 0 an expired verdict waits for the refresh', async () => {
    const { service, calls, advance } = harness();
    await service.lookup(MD5, 'git');
    advance(TTL_SIGNED_S * 1000 + 1);
    expect((await service.lookup(MD5, 'git')).status).toBe('miss');
    expect(calls).toHaveLength(2);
  });
});
