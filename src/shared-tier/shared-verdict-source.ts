import { CarbonBlackError, type CarbonBlackErrorCode } from '../backends/errors.js';
import type { VerdictSource } from '../signing/signature-service.js';
import type { SignatureInterner } from '../signing/signature-interner.js';
import { AliasedVerdict, type LoadedVerdict } from '../signing/verdict-cache.js';
import { entryAnswers, type CachedVerdict } from '../signing/verdict.js';
import { UpstreamDeadlineError } from '../upstream/upstream-errors.js';
import type { FlightFailure, SharedVerdicts } from './shared-verdicts.js';
import { decodeSharedVerdict, encodeSharedVerdict } from './verdict-codec.js';

/**
 * The shared tier between the in-process LRU and Carbon Black, as a
 * VerdictSource wrapping the backend's: the LRU and the routes see a source
 * like any other. A load (an LRU miss, already coalesced per hash in this
 * process) goes:
 *
 *   1. Redis has a valid, fresh verdict: it answers, with its original storedAt.
 *   2. Else this replica claims the fleet's flight for the hash, asks Carbon
 *      Black through the backend's source (guard and all), stores the verdict
 *      with its lifetime and tells the waiters.
 *   3. Else another replica holds the flight: wait for its news, then read
 *      again. If it failed with a Carbon Black error, that error is the answer
 *      here too (one request, not one per replica); if it failed for a reason
 *      of its own (its queue, its breaker, its budget), ask here.
 *
 * Redis down, slow or answering errors at any step: the backend's source is
 * asked directly, as without a shared tier. Nothing Redis says can become a
 * verdict unless it decodes to one of this backend's verdicts.
 */

export interface SharedSourceOptions {
  shared: SharedVerdicts;
  interner: SignatureInterner;
  /** A verdict's lifetime (the CACHE_TTL_* of its kind), in ms. */
  lifetimeMs: (verdict: CachedVerdict) => number;
  /** CB_DEADLINE_MS: the longest a lookup waits for another replica's flight. */
  waitLimitMs: number;
  now?: () => number;
  /** A lookup found the fleet's verdict, or found none; a value it ignored as corrupt or foreign. */
  onRead?: (outcome: 'hit' | 'miss' | 'rejected') => void;
}

/** Failures that are Carbon Black's, not the asking replica's: every replica would have met them. */
const CARBON_BLACK_CODES: ReadonlySet<string> = new Set<CarbonBlackErrorCode>([
  'CB_UNREACHABLE',
  'CB_TIMEOUT',
  'CB_TOKEN_REJECTED',
  'CB_QUERY_REJECTED',
  'CB_RATE_LIMITED',
  'CB_SERVER_ERROR',
  'CB_UNEXPECTED_STATUS',
  'CB_MALFORMED_RESPONSE',
  'CB_TLS_UNTRUSTED',
]);

/**
 * Between re-reads while another replica holds a flight: its news normally
 * wakes the wait at once; this bounds the wait when a message is missed.
 */
const MAX_QUIET_WAIT_MS = 250;

export function sharedVerdictSource(inner: VerdictSource, options: SharedSourceOptions): VerdictSource {
  const { shared, interner, lifetimeMs, waitLimitMs } = options;
  const now = options.now ?? Date.now;
  const onRead = options.onRead ?? (() => undefined);
  // Flight tokens: this replica's id and a counter, so no two flights anywhere share one.
  let flights = 0;

  /** The verdict in a value read from Redis, when it is one and answers this lookup. */
  function usable(value: string, hash: string, name: string): AliasedVerdict | undefined {
    const decoded = decodeSharedVerdict(value, hash, inner.basis, interner);
    if (decoded === undefined) {
      onRead('rejected');
      return undefined;
    }
    if (inner.nameTested && !entryAnswers(decoded.verdict, name)) return undefined;
    const at = now();
    // Another replica's clock may run ahead: a verdict is never younger than now.
    const storedAt = Math.min(decoded.storedAt, at);
    if (storedAt + lifetimeMs(decoded.verdict) <= at) return undefined;
    return new AliasedVerdict(
      decoded.verdict,
      decoded.hashes.filter((each) => each !== hash),
      storedAt,
    );
  }

  async function lead(hash: string, name: string, fresh: boolean, token: string): Promise<LoadedVerdict> {
    const renewal = setInterval(() => void shared.renew(hash, token).catch(() => undefined), Math.max(1, shared.leaseMs / 3));
    renewal.unref();
    let loaded: LoadedVerdict;
    try {
      loaded = await inner.load(hash, name, fresh);
    } catch (error) {
      clearInterval(renewal);
      void shared.abandon(hash, token, failureOf(error)).catch(() => undefined);
      throw error;
    }
    clearInterval(renewal);
    const verdict = loaded instanceof AliasedVerdict ? loaded.verdict : loaded;
    const hashes = [hash, ...(loaded instanceof AliasedVerdict ? loaded.aliases.filter((each) => each !== hash) : [])];
    // One time for the fleet's copy and this replica's, so every replica reports the same storedAt.
    const storedAt = now();
    const value = encodeSharedVerdict(inner.basis, { verdict, storedAt, hashes });
    // Awaited (within REDIS_TIMEOUT_MS) so the fleet has the verdict by the time this lookup answers.
    if (value === undefined) void shared.abandon(hash, token, { code: 'UNSTORABLE' }).catch(() => undefined);
    else await shared.store(hash, hashes, token, value, lifetimeMs(verdict)).catch(() => undefined);
    return new AliasedVerdict(verdict, hashes.slice(1), storedAt);
  }

  async function load(hash: string, name: string, fresh = false): Promise<LoadedVerdict> {
    if (!shared.up) return inner.load(hash, name, fresh);
    const token = `${shared.replica}:${++flights}`;
    const startedAt = now();
    // A `no-cache` lookup skips the fleet's stored verdict, but still joins a flight already running.
    let read = !fresh;
    let counted = false;
    for (;;) {
      let claim;
      try {
        claim = await shared.readOrClaim(hash, token, read);
      } catch {
        // No answer in time. The claim may still have been made: leading anyway stores the verdict
        // and ends the flight if it is ours, so no replica waits on it for the rest of its lease.
        return lead(hash, name, fresh, token);
      }
      if (claim.kind === 'found') {
        const found = usable(claim.value, hash, name);
        if (found !== undefined) {
          onRead('hit');
          return found;
        }
        // Corrupt, foreign, past its lifetime, or for another name: ask Carbon Black instead.
        read = false;
        continue;
      }
      if (!counted) {
        counted = true;
        onRead('miss');
      }
      if (claim.kind === 'claimed') return lead(hash, name, fresh, token);
      const left = waitLimitMs - (now() - startedAt);
      if (left <= 0) throw new UpstreamDeadlineError(waitLimitMs);
      const news = await shared.waitFor(hash, Math.min(left, claim.leaseLeftMs + 5, MAX_QUIET_WAIT_MS));
      if (news.kind === 'failed') {
        const adopted = adopt(news.failure, waitLimitMs);
        if (adopted !== undefined) throw adopted;
        return inner.load(hash, name, fresh);
      }
      read = true;
    }
  }

  return {
    basis: inner.basis,
    hashKinds: inner.hashKinds,
    indexNote: inner.indexNote,
    nameTested: inner.nameTested,
    load,
  };
}

function failureOf(error: unknown): FlightFailure {
  if (error instanceof CarbonBlackError) {
    return {
      code: error.code,
      ...(error.upstreamStatus !== undefined && { upstreamStatus: error.upstreamStatus }),
      ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code) ? code : 'UNKNOWN' };
}

/** The error this lookup answers with when the replica that asked Carbon Black failed; undefined: ask here. */
function adopt(failure: FlightFailure, waitLimitMs: number): Error | undefined {
  if (CARBON_BLACK_CODES.has(failure.code)) {
    return new CarbonBlackError(
      failure.code as CarbonBlackErrorCode,
      `Carbon Black failed (${failure.code}) for the Signet replica asking it about this binary`,
      {
        ...(failure.upstreamStatus !== undefined && { upstreamStatus: failure.upstreamStatus }),
        ...(failure.retryAfterMs !== undefined && { retryAfterMs: failure.retryAfterMs }),
      },
    );
  }
  if (failure.code === 'UPSTREAM_DEADLINE') return new UpstreamDeadlineError(waitLimitMs);
  return undefined;
}
