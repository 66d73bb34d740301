import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authentication } from '../../src/plugins/authentication.js';
import { problemDetails } from '../../src/plugins/problem-details.js';
import { rateLimiting } from '../../src/plugins/rate-limit.js';
import { schemaCompilers } from '../../src/plugins/schema-compilers.js';
import { ADMIN_KEY, bearer, buildTestApp, LOOKUP_KEY, OTHER_LOOKUP_KEY, testKeys } from './support.js';

const apps: FastifyInstance[] = [];
async function appWithLimit(perMinute: number, options: { disabled?: boolean } = {}) {
  const app = await buildTestApp({ perMinute, ...(options.disabled && { keys: [], disabled: true }) });
  apps.push(app);
  return app;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const thing = '/v1/things/1';

describe('per-key rate limits', () => {
  it('counts down in RateLimit-* headers, then answers 429 as a problem with Retry-After', async () => {
    const app = await appWithLimit(3);
    for (const remaining of [2, 1, 0]) {
      const response = await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      expect(response.headers['ratelimit-remaining']).toBe(String(remaining));
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0);
      expect(response.headers['retry-after']).toBeUndefined();
    }
    const limited = await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({
      type: 'urn:signet:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      code: 'RATE_LIMITED',
      instance: thing,
    });
    expect(limited.json().detail).toContain('API key "reader" may make 3 requests a minute');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe(String(retryAfter));
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
  });

  it('limits each key on its own: another key is unaffected', async () => {
    const app = await appWithLimit(2);
    for (let i = 0; i < 3; i++) await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(429);
    const other = await app.inject({ url: thing, headers: bearer(OTHER_LOOKUP_KEY) });
    expect(other.statusCode).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe('1');
    expect((await app.inject({ method: 'DELETE', url: '/v1/admin/things', headers: bearer(ADMIN_KEY) })).statusCode).toBe(204);
  });

  it('shares one budget across a key’s routes, and counts a batch once', async () => {
    const app = await appWithLimit(3);
    const items = Array.from({ length: 500 }, (_, i) => String(i));
    const batch = await app.inject({ method: 'POST', url: '/v1/things/batch', headers: bearer(LOOKUP_KEY), payload: { items } });
    expect(batch.json()).toEqual({ count: 500 });
    expect(batch.headers['ratelimit-remaining']).toBe('2');
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).headers['ratelimit-remaining']).toBe('1');
  });

  it('refuses an over-limit batch before reading its body', async () => {
    const app = await appWithLimit(1);
    await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/things/batch',
      headers: { ...bearer(LOOKUP_KEY), 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(response.statusCode).toBe(429);
  });

  it('never limits public routes, and adds no RateLimit headers to them', async () => {
    const app = await appWithLimit(1);
    for (let i = 0; i < 5; i++) {
      const response = await app.inject({ url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('does not spend a key’s budget on requests that fail authentication', async () => {
    const app = await appWithLimit(1);
    for (let i = 0; i < 5; i++) {
      const response = await app.inject({ url: thing, headers: bearer('wrong-key-0123456789') });
      expect(response.statusCode).toBe(401);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(200);
  });

  it('starts a new window after a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const app = await appWithLimit(1);
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(200);
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(429);
    vi.setSystemTime(Date.now() + 60_001);
    expect((await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(200);
  });

  it('limits by client address when authentication is disabled', async () => {
    const app = await appWithLimit(1, { disabled: true });
    expect((await app.inject({ url: thing, remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    const limited = await app.inject({ url: thing, remoteAddress: '10.0.0.1' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().detail).toMatch(/^This client may make 1 requests/);
    expect((await app.inject({ url: thing, remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
  });

  it('still keys by caller when the rate limit is registered before authentication', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(schemaCompilers);
    await app.register(problemDetails);
    await app.register(rateLimiting, { perMinute: 1 });
    await app.register(authentication, { keys: testKeys, disabled: false });
    app.get('/x', { config: { auth: 'lookup' } }, async (request) => ({ caller: request.caller?.name }));
    expect((await app.inject({ url: '/x', headers: bearer(LOOKUP_KEY) })).json()).toEqual({ caller: 'reader' });
    expect((await app.inject({ url: '/x', headers: bearer(LOOKUP_KEY) })).statusCode).toBe(429);
    expect((await app.inject({ url: '/x', headers: bearer(OTHER_LOOKUP_KEY) })).statusCode).toBe(200);
    expect((await app.inject({ url: '/x' })).statusCode).toBe(401);
  });

  it('refuses a limit that is not a positive integer', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(problemDetails);
    await expect(app.register(rateLimiting, { perMinute: 0 })).rejects.toThrow(/positive integer/);
  });

  it('must come after the problem-details error handler that answers its 429', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(rateLimiting, { perMinute: 10 })).rejects.toThrow(/problem-details/);
  });
});
