import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';
import { batchResponseSchema, problemSchema, signatureSchema } from '../../src/routes/schemas.js';

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

  it("documents the single lookup's X-Cache header on its 200", () => {
    const paths = served.paths as Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    expect(Object.keys(paths['/v1/signatures/{hash}']!.get!.responses['200']!.headers ?? {})).toContain('X-Cache');
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(served) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(served.openapi).toBe('3.1.0');
  });

  it('describes every operation, parameter and response', () => {
    const paths = served.paths as Record<string, Record<string, Operation>>;
    expect(Object.keys(paths).sort()).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/v1/cache', '/v1/cache/{hash}', '/v1/signatures/batch', '/v1/signatures/{hash}']),
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
          // /readyz answers its readiness report as JSON with 503 too; every other error is a problem.
          if (Number(status) >= 400 && path !== '/readyz')
            expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual(['application/problem+json']);
        }
      }
    }
  });

  it('has one example per response status of the lookups, each valid against its schema and distinct', () => {
    const paths = served.paths as Record<string, Record<string, Operation>>;
    const lookups: Array<[string, string, typeof signatureSchema | typeof batchResponseSchema]> = [
      ['/v1/signatures/{hash}', 'get', signatureSchema],
      ['/v1/signatures/batch', 'post', batchResponseSchema],
    ];
    const problemTexts = new Set<string>();
    for (const [path, method, okSchema] of lookups) {
      for (const [status, response] of Object.entries(paths[path]![method]!.responses)) {
        const media = Object.values(response.content ?? {})[0] as { examples?: Record<string, { value: unknown }> } | undefined;
        const examples = Object.values(media?.examples ?? {});
        expect(examples.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        for (const { value } of examples) {
          if (status === '200') okSchema.parse(value);
          else {
            expect(problemSchema.parse(value).status, `${method} ${path} ${status}`).toBe(Number(status));
            problemTexts.add(JSON.stringify(value));
          }
        }
      }
    }
    // Not one shared problem for every status.
    expect(problemTexts.size).toBeGreaterThanOrEqual(8);
  });

  it('the single lookup examples show each verdict', () => {
    const paths = served.paths as Record<string, Record<string, Operation>>;
    const media = paths['/v1/signatures/{hash}']!.get!.responses['200']!.content!['application/json'] as {
      examples: Record<string, { value: { verdict: string } }>;
    };
    expect(new Set(Object.values(media.examples).map((e) => e.value.verdict))).toEqual(new Set(['signed', 'unsigned', 'unknown']));
  });

  it('describes the verdict fields: enums for verdict and basis, the md5 pattern, the batch item as oneOf', () => {
    const schemas = (served.components as { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> }).schemas;
    expect(schemas.Signature!.properties.verdict!.enum).toEqual(['signed', 'unsigned', 'unknown']);
    expect(schemas.Signature!.properties.basis!.enum).toEqual(['binary-record', 'joined-search', 'cloud-process-search']);
    const text = JSON.stringify(served);
    expect(text).toContain('"pattern":"^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})$"');
    expect(text).toContain('"pattern":"^[0-9A-Fa-f]{32}$"');
    expect(text).toContain('"pattern":"^[0-9A-Fa-f]{64}$"');
    const paths = served.paths as Record<string, Record<string, Operation>>;
    const batch = paths['/v1/signatures/batch']!.post!.responses['200']!.content!['application/json'] as {
      schema: { properties: { results: { items: { oneOf: unknown[] } } } };
    };
    expect(batch.schema.properties.results.items.oneOf).toEqual([
      { $ref: '#/components/schemas/BatchVerdict' },
      { $ref: '#/components/schemas/BatchError' },
    ]);
    for (const status of [
      'Signed',
      'Unsigned',
      'Expired',
      'Bad Signature',
      'Invalid Signature',
      'Invalid Chain',
      'Untrusted Root',
      'Explicit Distrust',
    ]) {
      expect(text).toContain(status);
    }
  });

  it('documents /readyz as it answers: 503 with the readiness report as JSON, no Retry-After', async () => {
    const paths = served.paths as Record<string, Record<string, Operation & { responses: Record<string, { headers?: object }> }>>;
    const unready = paths['/readyz']!.get!.responses['503']!;
    expect(Object.keys(unready.content ?? {})).toEqual(['application/json']);
    expect(unready.headers).toBeUndefined();
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
