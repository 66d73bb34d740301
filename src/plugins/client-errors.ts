import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HttpProblem } from '../errors.js';
import { API_HEADERS } from './security-headers.js';

/**
 * Answers for requests Node's HTTP parser refuses before Fastify sees them (a
 * raw non-ASCII byte or a control character in the URL, an unknown method, a
 * bad chunk size, Content-Length with Transfer-Encoding, headers too large,
 * a request that stalls past its timeout): the same problem+json and security
 * headers as every other answer, then the connection is closed, since the
 * parser can no longer tell where the next request would start.
 */

const problems: Record<number, HttpProblem> = {
  400: new HttpProblem({
    status: 400,
    code: 'BAD_REQUEST',
    title: 'Bad request',
    detail: 'The request is not valid HTTP/1.1 (for example a raw non-ASCII or control character in the URL: percent-encode the name).',
  }),
  408: new HttpProblem({
    status: 408,
    code: 'REQUEST_TIMEOUT',
    title: 'Request timeout',
    detail: 'The request was not received in full within the time Signet allows; the connection is closed.',
  }),
  431: new HttpProblem({
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    title: 'Request header fields too large',
    detail: 'The request headers are larger than Signet accepts.',
  }),
};

function statusFor(code: string | undefined): 400 | 408 | 431 {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/** The raw response, built once per status: no request object exists, so `instance` is absent. */
const responses = new Map<number, string>(
  Object.entries(problems).map(([status, problem]) => {
    const body = JSON.stringify({
      type: problem.type,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
      retryable: problem.retryable,
    });
    const headers = Object.entries(API_HEADERS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return [
      Number(status),
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `${headers}connection: close\r\n\r\n${body}`,
    ];
  }),
);

/** Fastify's `clientErrorHandler`. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.end(responses.get(statusFor(error.code)) ?? '');
  else socket.destroy();
}
