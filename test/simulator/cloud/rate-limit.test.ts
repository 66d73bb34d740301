import { afterEach, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { cloudFixtures } from '../../../src/simulator/cloud/fixtures.js';
import { DEFAULT_RATE_LIMIT, SlidingWindowLimiter } from '../../../src/simulator/cloud/rate-limit.js';
import { admin, cloudSimulator, createJob, JOBS_PATH, ManualClock, readResults, TOKEN } from './helpers.js';

/** The per-key sliding window: what counts, the 429, Retry-After, and how calls during the wait extend it. */

describe('SlidingWindowLimiter', () => {
  it('allows limit requests per window, then refuses', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 10_000 }, clock.now);
    for (let i = 0; i < 3; i += 1) expect(limiter.hit().allowed).toBe(true);
    expect(limiter.hit()).toEqual({ allowed: false, retryAfterMs: 10_000, retryAfterSeconds: 10 });
    expect(limiter.inWindow()).toBe(4);
  });

  it('slides: a request ages out windowMs after it came, and a refused one takes a slot too', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 }, clock.now);
    limiter.hit(); // t=0
    clock.advance(600);
    limiter.hit(); // t=600
    clock.advance(399);
    // t=999: refused; with it the window holds 0, 600 and 999, so the next passes when 600 ages out, at 1600.
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 601, retryAfterSeconds: 1 });
    clock.advance(1); // t=1000: the request at 0 has aged out, the refused one at 999 still counts
    expect(limiter.inWindow()).toBe(2);
    // Refused again, which pushes the end from 1600 to 1999 (when the one at 999 ages out).
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 999 });
    clock.ms = 2000;
    expect(limiter.hit().allowed).toBe(true);
  });

  it('Retry-After is exact: waiting that long, silently, gets through, and a moment less does not', () => {
    const run = (waitMs: number): boolean => {
      const clock = new ManualClock(0);
      const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 5000 }, clock.now);
      limiter.hit();
      clock.advance(1200);
      limiter.hit();
      clock.advance(100);
      const refused = limiter.hit(); // t=1300: 0, 1200, 1300 in the window; it clears when 1200 ages out
      expect(refused).toMatchObject({ allowed: false, retryAfterMs: 4900, retryAfterSeconds: 5 });
      clock.advance(waitMs);
      return limiter.hit().allowed;
    };
    expect(run(5000)).toBe(true);
    expect(run(4900)).toBe(true);
    expect(run(4899)).toBe(false);
  });

  it('a single refused call is forgiven once the calls before it age out', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 5000 }, clock.now);
    limiter.hit(); // 0
    limiter.hit(); // 0
    const refused = limiter.hit(); // 0: three in the window, the next passes once two have aged out
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 5000, retryAfterSeconds: 5 });
    clock.advance(5000);
    // All three aged out together (they came at the same instant).
    expect(limiter.hit().allowed).toBe(true);
  });

  it('each call during the wait extends it to when the next-oldest call ages out', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 10_000 }, clock.now);
    for (const at of [0, 1000, 2000]) {
      clock.ms = at;
      expect(limiter.hit().allowed).toBe(true);
    }
    clock.ms = 3000;
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 8000 }); // until 11,000, when the call at 1000 ages out
    clock.ms = 4000;
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 8000 }); // until 12,000 (the call at 2000)
    clock.ms = 5000;
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 8000 }); // until 13,000 (the refused call at 3000)
    // Stopping: the wait announced last holds, to the millisecond.
    clock.ms = 12_999;
    expect(limiter.inWindow()).toBe(3);
    clock.ms = 13_000;
    expect(limiter.hit().allowed).toBe(true);
  });

  it('a client that keeps polling while limited stays limited', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 1000 }, clock.now);
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 100) {
      clock.ms = t;
      if (limiter.hit().allowed) allowed += 1;
    }
    // Ten calls a window against a limit of five: only the first five ever pass.
    expect(allowed).toBe(5);
  });

  it('keeps the log ordered if the clock steps back, and stays bounded in memory', () => {
    const clock = new ManualClock(10_000);
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 }, clock.now);
    limiter.hit();
    clock.ms = 9_000;
    limiter.hit();
    expect(limiter.hit()).toMatchObject({ allowed: false, retryAfterMs: 2000 });
    for (let i = 0; i < 100_000; i += 1) {
      clock.ms = 20_000 + i * 2000;
      expect(limiter.hit().allowed).toBe(true);
    }
    expect(limiter.inWindow()).toBe(1);
  });

  it('refuses nonsensical settings', () => {
    expect(() => new SlidingWindowLimiter({ limit: 0, windowMs: 1000 }, Date.now)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ limit: 1, windowMs: 0 }, Date.now)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ limit: 1.5, windowMs: 1000 }, Date.now)).toThrow(RangeError);
    expect(DEFAULT_RATE_LIMIT).toEqual({ limit: 1000, windowMs: 300_000 });
  });
});

describe('rate limit over HTTP', () => {
  let app: CloudSimulatorInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const query = { query: `process_hash:${cloudFixtures.osBinary.md5}` };

  it('counts job creations and results reads alike, and answers 429 with Retry-After and JSON', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, rateLimit: { limit: 3, windowMs: 60_000 } });
    const created = await createJob(app, query);
    const id = created.json<{ job_id: string }>().job_id;
    expect((await readResults(app, id)).statusCode).toBe(200);
    expect((await readResults(app, 'unknown-job')).statusCode).toBe(404); // a 404 counts too
    const limited = await readResults(app, id);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(limited.json()).toEqual({ success: false, message: 'Too many requests: retry after 60 seconds' });
    expect((await createJob(app, query)).statusCode).toBe(429);
    expect((await app.inject({ method: 'GET', url: '/api/unknown', headers: { 'x-auth-token': TOKEN } })).statusCode).toBe(429);
    expect(app.cloudSimulator.stats).toMatchObject({ rateLimited: 3, requests: 6, rateWindowRequests: 6 });
    expect(app.cloudSimulator.stats.requestsByKind).toEqual({ createJob: 2, readResults: 3, other: 1 });
  });

  it('lets a client through once it has waited out Retry-After', async () => {
    const clock = new ManualClock();
    app = await cloudSimulator({ now: clock.now, rateLimit: { limit: 2, windowMs: 10_000 } });
    await createJob(app, query);
    clock.advance(2500);
    await createJob(app, query);
    clock.advance(500);
    const limited = await createJob(app, query);
    expect(limited.statusCode).toBe(429);
    const seconds = Number(limited.headers['retry-after']);
    // The refused call takes a slot, so the next passes when the call at 2,500 ages out: 9.5 s away, rounded up.
    expect(seconds).toBe(10);
    clock.advance(seconds * 1000);
    expect((await createJob(app, query)).statusCode).toBe(200);
  });

  it('does not count or limit unauthorized requests or the admin endpoints', async () => {
    app = await cloudSimulator({ rateLimit: { limit: 1, windowMs: 60_000 } });
    for (let i = 0; i < 5; i += 1) expect((await createJob(app, query, 'WRONG/TOKEN')).statusCode).toBe(401);
    for (let i = 0; i < 5; i += 1) expect((await admin(app, 'GET', '/__simulator/stats')).statusCode).toBe(200);
    expect(app.cloudSimulator.stats).toMatchObject({ requests: 0, rateLimited: 0, unauthorized: 5, rateWindowRequests: 0 });
    expect((await createJob(app, query)).statusCode).toBe(200);
    expect((await createJob(app, query)).statusCode).toBe(429);
  });

  it('limits before it checks the org key, so a wrong org key still spends the budget', async () => {
    app = await cloudSimulator({ rateLimit: { limit: 1, windowMs: 60_000 } });
    const wrongOrg = await app.inject({
      method: 'POST',
      url: JOBS_PATH.replace('TESTORG1', 'OTHERORG'),
      headers: { 'x-auth-token': TOKEN, 'content-type': 'application/json' },
      payload: JSON.stringify(query),
    });
    expect(wrongOrg.statusCode).toBe(403);
    expect((await createJob(app, query)).statusCode).toBe(429);
  });
});
