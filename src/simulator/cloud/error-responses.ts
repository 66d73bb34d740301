import { retryAfterHeader, type CannedResponse } from '../canned-response.js';
import type { ErrorStatus } from '../faults.js';

/**
 * The Cloud simulator's error answers. Carbon Black Cloud answers errors in
 * JSON, in two shapes the SDK's fixtures and the Cloud knowledge base show:
 * the API gateway's `{"success": false, "message": ...}` (authentication,
 * authorization, rate limiting) and the services' `{"error_code": ...,
 * "message": ...}` (bad requests, unknown jobs). The exact texts are not
 * documented; these are the simulator's. The load balancer in front answers
 * 502, 503 and 504 with HTML pages, which a client that assumes every error
 * is JSON trips over.
 *
 * No answer ever contains the caller's X-Auth-Token or any part of it.
 */

const JSON_TYPE = 'application/json;charset=UTF-8';
const HTML = 'text/html';

function json(status: number, body: object, headers: Record<string, string> = {}): CannedResponse {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** Missing, malformed or wrong credentials. */
export function unauthorizedResponse(): CannedResponse {
  return json(401, {
    success: false,
    message: 'Unauthorized: the X-Auth-Token header must be <API secret key>/<API ID> of a valid API key',
  });
}

/** The key is valid, but not for the org key in the path (why 403 and not 404: see README.md). */
export function forbiddenResponse(): CannedResponse {
  return json(403, { success: false, message: 'Forbidden: this API key has no access to the org in the path' });
}

/** The sliding-window rate limit (rate-limit.ts); Retry-After in whole seconds. */
export function rateLimitedResponse(retryAfterSeconds: number): CannedResponse {
  return json(
    429,
    { success: false, message: `Too many requests: retry after ${retryAfterSeconds} seconds` },
    retryAfterHeader(retryAfterSeconds),
  );
}

export function serviceError(status: number, errorCode: string, message: string, field?: string): CannedResponse {
  return json(status, { error_code: errorCode, message, ...(field === undefined ? {} : { field }) });
}

export function notFoundResponse(what: string): CannedResponse {
  return serviceError(404, 'NOT_FOUND', what);
}

function loadBalancerPage(status: number, title: string): string {
  return `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** What an injected error fault answers with. */
export function faultErrorResponse(status: ErrorStatus, retryAfterSeconds: number | undefined): CannedResponse {
  const retryAfter = retryAfterHeader(retryAfterSeconds);
  switch (status) {
    case 401:
      return unauthorizedResponse();
    case 429:
      return json(429, { success: false, message: 'Too many requests' }, retryAfter);
    case 500:
      return serviceError(500, 'INTERNAL_SERVER_ERROR', 'An unexpected error occurred; try again later');
    case 502:
      return { status, headers: { 'content-type': HTML }, body: loadBalancerPage(502, 'Bad Gateway') };
    case 503:
      return { status, headers: { 'content-type': HTML, ...retryAfter }, body: loadBalancerPage(503, 'Service Temporarily Unavailable') };
    case 504:
      return { status, headers: { 'content-type': HTML }, body: loadBalancerPage(504, 'Gateway Time-out') };
  }
}
