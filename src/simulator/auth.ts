import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendCanned } from './canned-response.js';
import { unauthorizedResponse } from './error-responses.js';

/**
 * X-Auth-Token check for every route, as Carbon Black does it: a missing or
 * wrong token gets the web tier's 401 HTML page, not JSON.
 */

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes the lengths equal, so the length leaks nothing either). */
export function tokenMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(digest(expected), digest(given));
}

export function authHook(token: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (tokenMatches(token, request.headers['x-auth-token'])) return undefined;
    return sendCanned(reply, unauthorizedResponse());
  };
}
