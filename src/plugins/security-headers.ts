import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Response headers for a JSON API that also serves Swagger UI, set by one
 * `onSend` hook from precomputed values, on every answer: routes, problems,
 * 404s and the docs.
 *
 * JSON answers get a CSP that allows nothing. Pages under the docs prefix get
 * one that lets Swagger UI run: its scripts, styles, images and fonts are all
 * served from `<prefix>/static` (no inline script; it does set inline style
 * attributes, hence 'unsafe-inline' for styles only), its icons are `data:` URIs in its
 * CSS, and it fetches the OpenAPI document from the same origin. There is no
 * `upgrade-insecure-requests`, which would break the page on plain HTTP.
 *
 * `Cache-Control: no-store` is set unless the route set its own (the docs'
 * static files have theirs), so that shared caches never keep an
 * authenticated answer.
 */

export interface SecurityHeadersOptions {
  /** Where Swagger UI is mounted; default `/docs`. */
  docsPrefix?: string;
}

export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export const DOCS_CSP = [
  "default-src 'none'",
  "base-uri 'none'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "manifest-src 'self'",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  // Swagger UI sets inline style attributes (seen as CSP violations in Chromium); scripts stay 'self' only.
  "style-src 'self' 'unsafe-inline'",
].join('; ');

const common = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

/** The headers of every API answer, also for answers that bypass the hooks (see app.ts's frameworkErrors). */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...common,
  'content-security-policy': API_CSP,
  'cache-control': 'no-store',
});

export const securityHeaders = fp(
  async (app: FastifyInstance, options: SecurityHeadersOptions) => {
    const prefix = (options.docsPrefix ?? '/docs').replace(/\/+$/, '');
    const apiHeaders = { ...common, 'content-security-policy': API_CSP };
    const docsHeaders = { ...common, 'content-security-policy': DOCS_CSP };
    const isDocs = (url: string): boolean =>
      url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?');

    app.addHook('onSend', (request, reply, payload, done) => {
      reply.headers(isDocs(request.url) ? docsHeaders : apiHeaders);
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      done(null, payload);
    });
  },
  { name: 'security-headers', fastify: '5.x' },
);
