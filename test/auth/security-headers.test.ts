import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CSP, DOCS_CSP } from '../../src/plugins/security-headers.js';
import { bearer, buildTestApp, LOOKUP_KEY } from './support.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ docs: true, perMinute: 1000 });
});
afterAll(() => app.close());

type Headers = Record<string, string | string[] | number | undefined>;

function expectCommonHeaders(headers: Headers) {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['cross-origin-resource-policy']).toBe('same-origin');
}

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('security headers on API answers', () => {
  it('are on a JSON answer, with a CSP that allows nothing and no-store', async () => {
    const response = await app.inject({ url: '/v1/things/1', headers: bearer(LOOKUP_KEY) });
    expect(response.statusCode).toBe(200);
    expectCommonHeaders(response.headers);
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['a 401 problem', { url: '/v1/things/1' }, 401],
    ['a 400 problem', { url: '/v1/things/abc', headers: bearer(LOOKUP_KEY) }, 400],
    ['a 404 problem', { url: '/nowhere' }, 404],
    ['a public route', { url: '/healthz' }, 200],
    ['the OpenAPI document', { url: '/openapi.json' }, 200],
  ])('are on %s', async (_what, request, status) => {
    const response = await app.inject(request);
    expect(response.statusCode).toBe(status);
    expectCommonHeaders(response.headers);
    expect(response.headers['content-security-policy']).toBe(API_CSP);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('keep a Cache-Control the route set itself', async () => {
    const response = await app.inject({ url: '/v1/cacheable', headers: bearer(LOOKUP_KEY) });
    expect(response.headers['cache-control']).toBe('private, max-age=60');
    expectCommonHeaders(response.headers);
  });

  it('give a path that only starts like the docs the API policy', async () => {
    expect((await app.inject('/docsx')).headers['content-security-policy']).toBe(API_CSP);
  });
});

describe('security headers on the Swagger UI pages', () => {
  it('let the docs page load its own assets and nothing else', async () => {
    const csp = directives(DOCS_CSP);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    // Swagger UI sets inline style attributes; the browser test saw them blocked without 'unsafe-inline'.
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
  });

  for (const page of ['/docs', '/docs/']) {
    it(`serve ${page} with the docs policy, and every asset it names loads under that policy`, async () => {
      const response = await app.inject(page);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expectCommonHeaders(response.headers);
      expect(response.headers['content-security-policy']).toBe(DOCS_CSP);
      const html = response.body;

      // Nothing inline for the CSP to block: every script has a src, no style or event-handler attributes.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);

      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(5);
      for (const asset of assets) {
        // Same origin: relative or rooted, never another host.
        expect(asset, asset).not.toMatch(/^[a-z]+:|^\/\//i);
        const url = new URL(asset, `http://signet.test${page}`).pathname;
        const loaded = await app.inject(url);
        expect(loaded.statusCode, url).toBe(200);
        expect(loaded.headers['content-security-policy'], url).toBe(DOCS_CSP);
        expect(loaded.headers['x-content-type-options'], url).toBe('nosniff');
        const type = String(loaded.headers['content-type']);
        if (url.endsWith('.js')) expect(type, url).toMatch(/javascript/);
        if (url.endsWith('.css')) expect(type, url).toMatch(/^text\/css/);
        if (url.endsWith('.png')) expect(type, url).toMatch(/^image\/png/);
      }
    });
  }

  it('serve the static files with their own cache headers', async () => {
    const css = await app.inject('/docs/static/swagger-ui.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['cache-control']).not.toBe('no-store');
  });

  it('serve the document Swagger UI fetches (same origin, so connect-src self allows it)', async () => {
    const initializer = await app.inject('/docs/static/swagger-initializer.js');
    expect(initializer.body).toContain("resolveUrl('./json')");
    const json = await app.inject('/docs/json');
    expect(json.statusCode).toBe(200);
    expect(json.json()).toHaveProperty('openapi', '3.1.0');
  });
});
