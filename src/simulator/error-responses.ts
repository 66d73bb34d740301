import { retryAfterHeader, type CannedResponse } from './canned-response.js';
import type { ErrorStatus } from './faults.js';

/**
 * Error answers that look like the ones Carbon Black and its fronting proxy
 * give in the wild (see carbon-black-api.md): HTML from the web tier and the
 * proxy, plain text from the application, JSON only for rate limiting and
 * query errors. A client that assumes every error is JSON trips over these.
 */

const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export const UNAUTHORIZED_PAGE =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n' +
  '<title>401 Unauthorized</title>\n' +
  '<h1>Unauthorized</h1>\n' +
  "<p>The server could not verify that you are authorized to access the URL requested.  You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.</p>\n";

/** The web framework's default 404 page (Werkzeug's, like the 401 above): what an unknown md5 or path gets. */
export const NOT_FOUND_PAGE =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n' +
  '<title>404 Not Found</title>\n' +
  '<h1>Not Found</h1>\n' +
  '<p>The requested URL was not found on the server.  If you entered the URL manually please check your spelling and try again.</p>\n';

function proxyPage(status: number, title: string): string {
  return (
    `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${status} ${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}

export function unauthorizedResponse(): CannedResponse {
  return { status: 401, headers: { 'content-type': HTML }, body: UNAUTHORIZED_PAGE };
}

export function notFoundResponse(): CannedResponse {
  return { status: 404, headers: { 'content-type': HTML }, body: NOT_FOUND_PAGE };
}

export function faultErrorResponse(status: ErrorStatus, retryAfterSeconds: number | undefined): CannedResponse {
  const retryAfter = retryAfterHeader(retryAfterSeconds);
  switch (status) {
    case 401:
      return unauthorizedResponse();
    case 429:
      return { status, headers: { 'content-type': JSON_TYPE, ...retryAfter }, body: JSON.stringify({ reason: 'rate_limited' }) };
    case 500:
      return { status, headers: { 'content-type': TEXT }, body: 'Unhandled exception. Check logs for details.' };
    case 502:
      return { status, headers: { 'content-type': HTML }, body: proxyPage(502, 'Bad Gateway') };
    case 503:
      return {
        status,
        headers: { 'content-type': TEXT, ...retryAfter },
        body: 'Service Temporarily Unavailable: the server is busy, try again later.',
      };
    case 504:
      return { status, headers: { 'content-type': HTML }, body: proxyPage(504, 'Gateway Time-out') };
  }
}

/** 400 for a query the parser rejects; the detail travels in a header so the body stays exactly what CB sends. */
export function queryErrorResponse(reason: 'query_syntax_error' | 'query_malformed_syntax', detail: string): CannedResponse {
  return {
    status: 400,
    headers: { 'content-type': JSON_TYPE, 'x-simulator-detail': headerSafe(detail) },
    body: JSON.stringify({ reason }),
  };
}

/**
 * A process search refused because it joins on the binary (the blockJoins
 * fault). Carbon Black does not document what a blocked join answers; this
 * 400 with a reason of its own is the simulator's guess, shaped like the
 * query errors a server does document.
 */
export function joinBlockedResponse(detail: string): CannedResponse {
  return {
    status: 400,
    headers: { 'content-type': JSON_TYPE, 'x-simulator-detail': headerSafe(detail) },
    body: JSON.stringify({ reason: 'join_blocked' }),
  };
}

function headerSafe(text: string): string {
  // Header values must be latin-1 without control characters.
  return text.replace(/[^\x20-\x7e]/gu, '?').slice(0, 500);
}
