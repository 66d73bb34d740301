import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from './support.js';

type Operation = { security?: unknown; responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }> };

let app: FastifyInstance;
let document: { paths: Record<string, Record<string, Operation>>; components: Record<string, Record<string, unknown>> };

beforeAll(async () => {
  app = await buildTestApp({ docs: true, perMinute: 100 });
  document = (await app.inject('/openapi.json')).json();
});
afterAll(() => app.close());

describe('authentication in the OpenAPI document', () => {
  it('declares the bearerAuth security scheme', () => {
    expect(document.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
  });

  it('marks routes with config.auth as needing it, with 401 and 429 answers as problems', () => {
    const getThing = document.paths['/v1/things/{id}']!.get!;
    expect(getThing.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(getThing.responses).sort()).toEqual(['200', '400', '401', '429']);
    expect(getThing.responses['401']!.description).toMatch(/API key/);
    expect(getThing.responses['429']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Problem' });
    // The route's own answers are kept.
    expect(getThing.responses['400']!.description).toBe('Bad id.');
  });

  it('documents 403 only on admin routes, since every key may do lookups', () => {
    const forget = document.paths['/v1/admin/things']!.delete!;
    expect(forget.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(forget.responses).sort()).toEqual(['401', '403', '429']);
    expect(forget.responses['403']!.description).toContain('"admin" role');
  });

  it('leaves public routes without security or auth answers', () => {
    const health = document.paths['/healthz']!.get!;
    expect(health.security).toBeUndefined();
    expect(Object.keys(health.responses)).toEqual(['200']);
  });
});
