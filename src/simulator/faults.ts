import { z } from 'zod';

/**
 * Fault injection for upstream requests: process searches, binary summary
 * reads, binary searches and binary downloads alike, from one shared state.
 * Every request draws its fate once, when it arrives, so counts are
 * predictable: `failNext` is spent first (the next N requests fail with
 * errorStatus), then one random number picks at most one of error, hang,
 * reset, malformed, truncated, in that order, by their rates (a rate of
 * exactly 1 always fires and 0 never does; when the rates add up to more than
 * 1 the earlier kinds win). Latency, jitter and slow bodies apply on top of
 * whatever was picked.
 *
 * `blockJoins` is not random: while it is on, a process search whose query
 * reads any binary (digsig_*) field is refused, the way a server with
 * ForceBlockCoreJoinsInSearchTo blocks large binary joins.
 */

export const ERROR_STATUSES = [401, 429, 500, 502, 503, 504] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];

export interface FaultSettings {
  /** Extra fixed latency per request, ms (added to the simulator's latencyMs). */
  latencyMs: number;
  /** A further random 0..jitterMs ms per request. */
  jitterMs: number;
  /** Share (0..1) of requests answered with errorStatus. */
  errorRate: number;
  errorStatus: ErrorStatus;
  /** Sent as Retry-After with 429 and 503 answers, when set. */
  retryAfterSeconds?: number;
  /** Share of requests never answered until the client or the server closes the connection. */
  hangRate: number;
  /** Share of requests whose connection is reset (TCP RST) without any response. */
  resetRate: number;
  /** Share of requests answered 200 with a body that is not valid JSON. */
  malformedRate: number;
  /** Share of requests answered 200 with the full Content-Length but half the body, then the socket destroyed. */
  truncatedRate: number;
  /** When > 0, 200 bodies are written in chunks spread over this many ms (headers go out first). */
  slowBodyMs: number;
  /** The next N requests fail with errorStatus, whatever the rates; counts down to 0 (always present when read back). */
  failNext?: number;
  /**
   * Refuse process searches that join on the binary (any digsig_* term) with
   * 400 {"reason":"join_blocked"}; binary endpoints and other process searches
   * keep working. What a real server answers is undocumented: this is a guess.
   */
  blockJoins: boolean;
}

export const DEFAULT_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  errorStatus: 503,
  hangRate: 0,
  resetRate: 0,
  malformedRate: 0,
  truncatedRate: 0,
  slowBodyMs: 0,
  failNext: 0,
  blockJoins: false,
});

const milliseconds = z.number().int().min(0).max(600_000);
const rate = z.number().min(0).max(1);

/** A partial update, as PUT /__simulator/faults takes it; `retryAfterSeconds: null` removes the header. */
export const faultUpdateSchema = z
  .object({
    latencyMs: milliseconds,
    jitterMs: milliseconds,
    errorRate: rate,
    errorStatus: z.union(ERROR_STATUSES.map((s) => z.literal(s))),
    retryAfterSeconds: z.number().int().min(0).max(86_400).nullable(),
    hangRate: rate,
    resetRate: rate,
    malformedRate: rate,
    truncatedRate: rate,
    slowBodyMs: milliseconds,
    failNext: z.number().int().min(0).max(1_000_000),
    blockJoins: z.boolean(),
  })
  .partial()
  .strict();

export type FaultUpdate = z.input<typeof faultUpdateSchema>;

export type FaultKind = 'none' | 'error' | 'hang' | 'reset' | 'malformed' | 'truncated';

export interface FaultDecision {
  kind: FaultKind;
  /** For `error`: the status to answer with. */
  status: ErrorStatus;
  retryAfterSeconds?: number;
  /** Total fault latency for this search (latencyMs + jitter), ms. */
  delayMs: number;
  slowBodyMs: number;
  /** Whether a process search that joins on the binary is refused. */
  blockJoins: boolean;
}

export class FaultState {
  private current: FaultSettings = { ...DEFAULT_FAULTS };

  constructor(
    initial: Partial<FaultSettings> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.set(initial);
  }

  get settings(): FaultSettings {
    return { ...this.current };
  }

  /** Validates and applies a partial update; throws a ZodError on bad values. */
  set(update: FaultUpdate | Partial<FaultSettings>): FaultSettings {
    const parsed = faultUpdateSchema.parse(update);
    const next: FaultSettings = { ...this.current };
    for (const [key, value] of Object.entries(parsed)) {
      if (key === 'retryAfterSeconds' && value === null) delete next.retryAfterSeconds;
      else if (value !== undefined) Object.assign(next, { [key]: value });
    }
    this.current = next;
    return this.settings;
  }

  clear(): FaultSettings {
    this.current = { ...DEFAULT_FAULTS };
    return this.settings;
  }

  /** Decides the fate of one upstream request (and spends one `failNext` if any is left). */
  decide(): FaultDecision {
    const s = this.current;
    const base = {
      status: s.errorStatus,
      ...(s.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: s.retryAfterSeconds }),
      delayMs: s.latencyMs + (s.jitterMs > 0 ? Math.floor(this.random() * (s.jitterMs + 1)) : 0),
      slowBodyMs: s.slowBodyMs,
      blockJoins: s.blockJoins,
    };
    if (s.failNext !== undefined && s.failNext > 0) {
      s.failNext -= 1;
      return { kind: 'error', ...base };
    }
    const draw = this.random(); // in [0, 1): `draw < 1` always holds, `draw < 0` never does
    let threshold = 0;
    const kinds: [FaultKind, number][] = [
      ['error', s.errorRate],
      ['hang', s.hangRate],
      ['reset', s.resetRate],
      ['malformed', s.malformedRate],
      ['truncated', s.truncatedRate],
    ];
    for (const [kind, share] of kinds) {
      if (share <= 0) continue;
      threshold += share;
      if (draw < threshold) return { kind, ...base };
    }
    return { kind: 'none', ...base };
  }
}
