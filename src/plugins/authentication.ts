import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKey, Role } from '../auth/api-keys.js';
import { ANONYMOUS_NAME, ROLES } from '../auth/api-keys.js';
import { KeyVerifier, roleAllows } from '../auth/authenticate.js';
import { BEARER_SECURITY_NAME } from '../auth/openapi.js';
import { HttpProblem } from '../errors.js';
import { problemSchema } from '../routes/schemas.js';
import { sendProblem } from './problem-details.js';

/**
 * API-key authentication. A route opts in with `config: { auth: 'lookup' | 'admin' }`;
 * routes without it are public. For those routes this plugin's `onRoute` hook
 * puts the key check first among the route's `onRequest` hooks (so it runs
 * before the rate limit, whatever the registration order) and documents the
 * bearer security and the 401/403/429 answers in the route schema. Public
 * routes pay nothing. Only routes registered after this plugin are covered.
 */

export interface Caller {
  readonly name: string;
  readonly role: Role;
}

/** The caller of every request when authentication is disabled. */
export const ANONYMOUS_CALLER: Caller = Object.freeze({ name: ANONYMOUS_NAME, role: 'admin' });

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a caller needs; absent means the route is public. */
    auth?: Role;
  }
  interface FastifyRequest {
    /** Who is calling: set on routes with `config.auth` (and on every request when authentication is disabled); null otherwise. */
    caller: Caller | null;
  }
}

export interface AuthenticationOptions {
  keys: readonly ApiKey[];
  disabled: boolean;
}

const CHALLENGE = 'Bearer realm="signet"';
const CHALLENGE_INVALID = 'Bearer realm="signet", error="invalid_token"';

// Built once: an Error's stack is captured at construction, which the hot path should not pay.
const missingKey = new HttpProblem({
  status: 401,
  code: 'UNAUTHORIZED',
  title: 'Unauthorized',
  detail: 'Send an API key as "Authorization: Bearer <key>".',
});
const malformedKey = new HttpProblem({
  status: 401,
  code: 'UNAUTHORIZED',
  title: 'Unauthorized',
  detail: 'The Authorization header must be "Bearer <key>", with a key and no spaces in it.',
});
const unknownKey = new HttpProblem({
  status: 401,
  code: 'UNAUTHORIZED',
  title: 'Unauthorized',
  detail: 'The API key is not valid.',
});
const forbidden: Record<Role, HttpProblem> = {
  lookup: new HttpProblem({
    status: 403,
    code: 'FORBIDDEN',
    title: 'Forbidden',
    detail: 'This endpoint needs an API key with the "lookup" role.',
  }),
  admin: new HttpProblem({
    status: 403,
    code: 'FORBIDDEN',
    title: 'Forbidden',
    detail: 'This endpoint needs an API key with the "admin" role.',
  }),
};

function authResponses(role: Role) {
  return {
    401: problemSchema.describe('No API key, or an unknown one; see WWW-Authenticate.'),
    // Every key may do lookups, so only admin routes can answer 403.
    ...(role === 'admin' && { 403: problemSchema.describe('The API key does not have the "admin" role.') }),
    429: problemSchema.describe(
      'This API key has made more than RATE_LIMIT_PER_MINUTE requests this minute (default 6000, per instance; a batch counts once); see Retry-After and the RateLimit-* headers.',
    ),
  };
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function setCaller(request: FastifyRequest, caller: Caller): void {
  // The access line reads request.caller; no child logger per request (it cost a tenth of a cached lookup).
  request.caller = caller;
}

export const authentication = fp(
  async (app: FastifyInstance, options: AuthenticationOptions) => {
    const { disabled } = options;
    const keys = [...options.keys];
    const callers = new Map<ApiKey, Caller>(keys.map((key) => [key, Object.freeze({ name: key.name, role: key.role })]));
    if (!disabled && keys.length === 0) throw new Error('authentication: no API keys and not disabled');
    // One per app, so per key set: see KeyVerifier for why remembering accepted values is safe.
    const verifier = new KeyVerifier(keys);

    app.decorateRequest('caller', null);

    if (disabled) {
      app.log.warn('AUTH_DISABLED=true: every request is served without an API key, as an anonymous admin');
      app.addHook('onRequest', async (request) => {
        request.caller = ANONYMOUS_CALLER;
      });
    }

    const checkFor = (needed: Role): onRequestAsyncHookHandler =>
      async function checkApiKey(request, reply) {
        const outcome = verifier.verify(request.headers.authorization);
        if (outcome.kind !== 'ok') {
          request.log.info({ auth: outcome.kind }, 'request not authenticated');
          const problem = outcome.kind === 'missing' ? missingKey : outcome.kind === 'malformed' ? malformedKey : unknownKey;
          reply.header('www-authenticate', outcome.kind === 'missing' ? CHALLENGE : CHALLENGE_INVALID);
          return sendProblem(reply, request, problem);
        }
        const caller = callers.get(outcome.key)!;
        setCaller(request, caller);
        if (!roleAllows(caller.role, needed)) {
          request.log.warn({ caller: caller.name, role: caller.role, needed }, 'caller lacks the role');
          return sendProblem(reply, request, forbidden[needed]);
        }
      };
    const checks: Record<Role, onRequestAsyncHookHandler> = { lookup: checkFor('lookup'), admin: checkFor('admin') };

    app.addHook('onRoute', (route: RouteOptions) => {
      const needed = route.config?.auth;
      if (needed === undefined) return;
      if (!ROLES.includes(needed)) {
        throw new Error(`${String(route.method)} ${route.url}: config.auth must be one of ${ROLES.join(', ')}`);
      }
      // First, so the caller is known to the rate limit and to any hook the route brings.
      if (!disabled) route.onRequest = [checks[needed], ...asArray(route.onRequest)];
      const schema = route.schema ?? {};
      route.schema = {
        ...schema,
        security: schema.security ?? [{ [BEARER_SECURITY_NAME]: [] }],
        response: { ...authResponses(needed), ...(schema.response as object | undefined) },
      };
    });
  },
  // The 401/403/429 answers it adds are zod schemas, which need the zod serializer compiler.
  { name: 'authentication', fastify: '5.x', dependencies: ['schema-compilers'] },
);
