import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CacheStatus } from '../signing/signature-service.js';

/**
 * What a lookup handler tells the access log about its request. The handler
 * assigns one object (`request.lookupInfo = { hash, cacheStatus }`): a single
 * property write, nothing else on the hot path.
 */
export interface LookupInfo {
  /** Lower-case md5 or sha256 looked up (single lookups). */
  hash?: string;
  /** How the answer was obtained (the response's `cache.status`). */
  cacheStatus?: CacheStatus;
  /** Milliseconds spent waiting for Carbon Black (queueing and retries included); absent for cache answers. */
  upstreamMs?: number;
  /** Items in a batch request. */
  items?: number;
  /** Batch items answered from the cache, without a search. */
  cached?: number;
  /** Batch items refused as malformed, each with its own error result. */
  invalid?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by lookup handlers for the access log; null otherwise. */
    lookupInfo: LookupInfo | null;
  }
}

export interface AccessLogOptions {
  /**
   * Route templates whose successful requests are logged at debug instead of
   * info: probes and scrapes arrive every few seconds and would drown the
   * lookups. Their 4xx/5xx answers stay at info. Default none.
   */
  quietRoutes?: readonly string[];
}

/** Longest hash parameter or unmatched path echoed into a line: both come from the caller, unvalidated. */
const MAX_ECHOED_CHARS = 128;

function clip(value: string): string {
  return value.length > MAX_ECHOED_CHARS ? `${value.slice(0, MAX_ECHOED_CHARS)}…` : value;
}

/** The caller identity set by the auth plugin, if any. Read defensively: that plugin owns the type. */
function callerName(request: FastifyRequest): string | undefined {
  const caller = (request as { caller?: { name?: unknown } | null }).caller;
  const name = caller?.name;
  return typeof name === 'string' ? name : undefined;
}

function hashParam(request: FastifyRequest): string | undefined {
  const params = request.params as { hash?: unknown } | undefined;
  return typeof params?.hash === 'string' ? clip(params.hash) : undefined;
}

/**
 * The fields of one access line. Deliberately no headers and no query string:
 * the Authorization header and the Carbon Black token must never reach a log.
 */
export function accessLine(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const route = request.routeOptions.url;
  const info = request.lookupInfo;
  const line: Record<string, unknown> = {
    reqId: request.id,
    caller: callerName(request),
    method: request.method,
    // The template, so lines group by endpoint; a 404 has none, so its path (no query) is shown instead.
    route,
  };
  // Field order as before: path (404s only) sits between route and status.
  if (route === undefined) line.path = clip(request.url.split('?', 1)[0] ?? '');
  line.status = reply.statusCode;
  line.durationMs = Math.round(reply.elapsedTime * 1000) / 1000;
  line.hash = info?.hash ?? hashParam(request);
  if (info) {
    if (info.cacheStatus !== undefined) line.cache = info.cacheStatus;
    if (info.upstreamMs !== undefined) line.upstreamMs = Math.round(info.upstreamMs * 1000) / 1000;
    if (info.items !== undefined) line.items = info.items;
    if (info.cached !== undefined) line.cached = info.cached;
    if (info.invalid !== undefined && info.invalid > 0) line.invalid = info.invalid;
  }
  return line;
}

/**
 * One info line per request when its response is sent (run Fastify with
 * `logController: new LogController({ disableRequestLogging: true })`, or the
 * deprecated `disableRequestLogging: true`), and the request id echoed in `x-request-id`.
 *
 * The line is written through the server's logger with `reqId` and `caller`
 * set here, not through `request.log`, so that no child logger is needed
 * per request for the caller's name.
 */
const accessLogPlugin: FastifyPluginAsync<AccessLogOptions> = async (app: FastifyInstance, options) => {
  const quiet = new Set(options.quietRoutes ?? []);
  // The line holds only the fields accessLine picks (no header, no query string, no token), so it skips
  // the redaction pass, whose wildcard paths walked every line (a twentieth of a cached lookup's CPU).
  // Every other line keeps it. One child, made here: nothing per request.
  const log = app.log.child({}, { redact: { paths: [] } });
  // pino's isLevelEnabled, so a line is not built for a level that is off; any other logger gets every line.
  const levelCheck = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.bind(log);
  const enabled = (level: 'debug' | 'info'): boolean => levelCheck === undefined || levelCheck(level);
  app.decorateRequest('lookupInfo', null);

  // onRequest, not onSend: the header is then on every response, errors and 404s included.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  // Callback style: an async hook costs a promise per request. The line is built only when its level is on.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    // A refused scrape or a failing probe is worth seeing: quiet routes go to debug only when they succeed.
    if (route !== undefined && quiet.has(route) && reply.statusCode < 400) {
      if (enabled('debug')) log.debug(accessLine(request, reply), 'request completed');
    } else if (enabled('info')) {
      log.info(accessLine(request, reply), 'request completed');
    }
    done();
  });
};

export const accessLog = fp(accessLogPlugin, { name: 'signet-access-log', fastify: '5.x' });
