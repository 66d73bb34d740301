import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../errors.js';

/**
 * The JSON body parser. Fastify's own refuses `__proto__` and
 * `constructor.prototype` keys (prototype poisoning) but reports them as
 * "not valid JSON", which sends a caller hunting for a syntax error that is
 * not there. This one refuses the same keys and says so. JSON.parse makes
 * `__proto__` an ordinary own property, so parsing itself is safe; the keys
 * are refused because nothing downstream should have to think about them.
 */

const invalidJson = new HttpProblem({
  status: 400,
  code: 'INVALID_JSON',
  title: 'Invalid JSON',
  detail: 'The request body is not valid JSON.',
});
const emptyJson = new HttpProblem({ status: 400, code: 'INVALID_JSON', title: 'Invalid JSON', detail: 'The request body is empty.' });
const poisoned = new HttpProblem({
  status: 400,
  code: 'INVALID_REQUEST',
  title: 'Invalid request',
  detail: 'The body holds a "__proto__" or "constructor.prototype" key, which Signet refuses.',
});

/** Whether any object in the parsed value holds such a key; iterative, so a deeply nested body cannot overflow the stack. */
function hasPoisonedKey(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return true;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return true;
      pending.push(child);
    }
  }
  return false;
}

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw emptyJson;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson;
  }
  // The walk visits every value, so it runs only when such a key can be there at all.
  if ((text.includes('__proto__') || text.includes('constructor')) && hasPoisonedKey(value)) throw poisoned;
  return value;
}

export const jsonBody = fp(
  async (app: FastifyInstance) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
  },
  { name: 'json-body' },
);
