import fastJsonStringify from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Requests are validated by the zod schemas themselves. Responses are not
 * validated at run time: each route's zod response schema is turned into JSON
 * Schema once, at start-up, and compiled by fast-json-stringify, the way
 * Fastify serializes natively. That keeps the hot path free of per-request
 * schema work while the OpenAPI document still comes from the same schemas.
 */
function compileSerializer({ schema }: { schema: unknown }): (data: unknown) => string {
  const jsonSchema = z.toJSONSchema(schema as z.ZodType, { target: 'draft-7', io: 'output', unrepresentable: 'any' });
  return fastJsonStringify(jsonSchema as Parameters<typeof fastJsonStringify>[0]);
}

export const schemaCompilers = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(compileSerializer);
  },
  { name: 'schema-compilers' },
);
