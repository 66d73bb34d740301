import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileValidator } from '../../src/plugins/schema-compilers.js';
import { signatureParamsSchema, signatureQuerySchema } from '../../src/routes/schemas.js';

/** Both the fast check and zod, on the same input: one verdict, and the same value when accepted. */
function expectSameAsZod(schema: typeof signatureParamsSchema | typeof signatureQuerySchema, input: unknown): void {
  const validate = compileValidator({ schema, method: 'GET', url: '/v1/signatures/:hash', httpPart: 'querystring' });
  const result = validate(input) as { value?: unknown; error?: unknown };
  const parsed = schema.safeParse(input);
  expect(result.error === undefined).toBe(parsed.success);
  if (parsed.success) expect(result.value).toEqual(parsed.data);
}

/** Fastify's parsed query and params have no prototype. */
const bare = (fields: Record<string, unknown>) => Object.assign(Object.create(null) as object, fields);

const hex = fc.constantFrom(...'0123456789abcdefABCDEFgx'.split(''));
const hash = fc.oneof(
  fc.array(hex, { minLength: 30, maxLength: 66 }).map((c) => c.join('')),
  fc.constantFrom('0'.repeat(32), 'A'.repeat(64), 'a'.repeat(33), '', `${'a'.repeat(32)}\n`),
  fc.string(),
);
const name = fc.oneof(
  fc.string({ minLength: 0, maxLength: 270, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
  fc.constantFrom('git', '', 'a\u0000b', 'x\u0085', 'x\u007f', 'git\ud800', '\udc00', 'x'.repeat(260), 'x'.repeat(261)),
  fc.array(fc.string(), { minLength: 2, maxLength: 3 }),
);

describe('the single lookup fast checks accept exactly what zod accepts', () => {
  it('path params (3000 runs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hash.map((h) => bare({ hash: h })),
          fc.record({ hash }),
          hash.map((h) => bare({ hash: h, other: 'x' })),
          fc.anything(),
        ),
        (input) => expectSameAsZod(signatureParamsSchema, input),
      ),
      { numRuns: 3000 },
    );
  });

  it('query (3000 runs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          name.map((n) => bare({ name: n })),
          fc.record({ name }, { requiredKeys: [] }),
          name.map((n) => bare({ name: n, extra: 'x' })),
          fc.anything(),
        ),
        (input) => expectSameAsZod(signatureQuerySchema, input),
      ),
      { numRuns: 3000 },
    );
  });
});
