import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

type Operation = {
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Array<{ name: string; description?: string; schema?: { example?: unknown } }>;
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
};

let stack: Stack;
let served: Record<string, unknown>;

beforeAll(async () => {
  stack = await startStack();
  served = (await stack.app.inject('/openapi.json')).json();
});
afterAll(() => stack.close());

describe('the OpenAPI document', () => {
  it('the committed copy equals what the service serves (run `npm run openapi` after changing a schema)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(committed);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(served) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(served.openapi).toBe('3.1.0');
  });

  it('describes every operation, parameter and response', () => {
    const paths = served.paths as Record<string, Record<string, Operation>>;
    expect(Object.keys(paths).sort()).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/v1/cache', '/v1/cache/{md5}', '/v1/signatures/batch', '/v1/signatures/{md5}']),
    );
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.summary, where).toBeTruthy();
        expect(operation.operationId, where).toBeTruthy();
        for (const parameter of operation.parameters ?? []) {
          expect(parameter.description, `${where} ${parameter.name}`).toBeTruthy();
          expect(parameter.schema?.example, `${where} ${parameter.name}`).toBeDefined();
        }
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.description, `${where} ${status}`).not.toBe('Default Response');
          if (Number(status) >= 400)
            expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual(['application/problem+json']);
        }
      }
    }
  });

  it('does not list the documentation routes themselves', () => {
    const paths = Object.keys(served.paths as object);
    expect(paths.filter((path) => path.startsWith('/docs') || path === '/openapi.json')).toEqual([]);
  });

  it('Swagger UI is served at /docs', async () => {
    const page = await stack.app.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
  });
});
