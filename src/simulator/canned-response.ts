import type { FastifyReply } from 'fastify';

/**
 * An answer worked out before anything is sent: status, headers and body as
 * text. Both simulators build their answers this way so that a fault can
 * still corrupt a 200 after it is known (fault-delivery.ts), and so that an
 * error looks exactly like the real one, headers included.
 */

export interface CannedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends the answer as it is, with nothing of Fastify's added to the body. */
export function sendCanned(reply: FastifyReply, answer: CannedResponse): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** The Retry-After header for an answer that sends one, in whole seconds; none at all when the seconds are not set. */
export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}
