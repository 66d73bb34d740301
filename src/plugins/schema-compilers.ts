import fastJsonStringify from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isValidName, ownKeyCount } from '../routes/batch-items.js';
import { HASH, signatureParamsSchema, signatureQuerySchema } from '../routes/schemas.js';

type Validate = ReturnType<typeof validatorCompiler>;

/*
 * The single lookup's params and query were validated by zod on every
 * request (a twentieth of its CPU). These plain checks accept exactly what
 * their schemas accept (a property test holds them together); anything they
 * do not accept goes through zod, which then words the problem. What they
 * accept is passed on as is: the objects have only the schema's keys, so
 * zod's copy would be the same.
 */
const fastChecks = new Map<unknown, (data: unknown) => boolean>([
  [signatureParamsSchema, (data) => isRecord(data) && typeof data.hash === 'string' && HASH.test(data.hash) && ownKeyCount(data) === 1],
  [signatureQuerySchema, (data) => isRecord(data) && isValidName(data.name) && ownKeyCount(data) === 1],
]);

function isRecord(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** Zod's validator, behind the schema's fast check when it has one. */
export function compileValidator(route: Parameters<typeof validatorCompiler>[0]): Validate {
  const zodValidate = validatorCompiler(route);
  const accepts = fastChecks.get(route.schema);
  if (accepts === undefined) return zodValidate;
  return (data) => (accepts(data) ? { value: data } : zodValidate(data));
}

/**
 * Requests are validated by the zod schemas themselves. Responses are not
 * validated at run time: each route's zod response schema is turned into JSON
 * Schema once, at start-up, and compiled by fast-json-stringify, the way
 * Fastify serializes natively. That keeps the hot path free of per-request
 * schema work while the OpenAPI document still comes from the same schemas.
 */
function compileSerializer({ schema }: { schema: unknown }): (data: unknown) => string | Buffer {
  const stringify = compileStringifier(schema);
  return (data) => asBody(stringify(data));
}

/** The JSON text of a value of the zod schema, as the routes' serializers write it (verdict-json.ts writes batch items with it). */
export function compileStringifier(schema: unknown): (data: unknown) => string {
  const jsonSchema = z.toJSONSchema(schema as z.ZodType, { target: 'draft-7', io: 'output', unrepresentable: 'any' });
  const definitions = (jsonSchema as SchemaNode).definitions;
  const resolve = (ref: string): unknown => (isSchema(definitions) ? definitions[ref.replace('#/definitions/', '')] : undefined);
  return fastJsonStringify(forSerializer(jsonSchema, resolve) as Parameters<typeof fastJsonStringify>[0]);
}

/** Above this many UTF-16 units an answer is handed to Fastify as bytes (a 1000-item batch is about 530,000). */
export const BYTES_FROM_LENGTH = 16 * 1024;

/**
 * fast-json-stringify builds its output by concatenation. Handed a long
 * string, Fastify measures it for Content-Length (flattening it first) and
 * Node then joins it to the header block and copies and encodes it again to
 * write it. As a Buffer it is flattened and encoded once, its length is known
 * and the socket takes it as it is. Fastify sends a Buffer payload like a
 * string one (the Content-Type the route set stays). Short answers stay
 * strings: for them the copy costs more than it saves.
 */
function asBody(json: string): string | Buffer {
  return json.length > BYTES_FROM_LENGTH ? Buffer.from(json, 'utf8') : json;
}

/**
 * `format` documents a string for the OpenAPI reader; to fast-json-stringify
 * it means a Date check on every value (measured at 4% of a batch). The
 * routes already hand over finished strings, so the serializer goes without.
 */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

type SchemaNode = Record<string, unknown>;

/**
 * The JSON Schema as the serializer should see it: no `format`, and every
 * `oneOf`/`anyOf` of objects (a batch result is a verdict or an error; a
 * signature is an object or null) merged into one object schema with all
 * their properties. fast-json-stringify would otherwise run a validator per
 * value to pick the alternative; the routes already built a value of the
 * right shape, so writing the properties it has is enough.
 */
function forSerializer(node: unknown, resolve: (ref: string) => unknown): unknown {
  if (Array.isArray(node)) return node.map((child) => forSerializer(child, resolve));
  if (node === null || typeof node !== 'object') return node;
  const merged = mergedAlternatives(node as SchemaNode, resolve);
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(merged)) {
    if (key === 'format') continue;
    // In these the keys are field names, not keywords: a field called "format" stays.
    out[key] =
      SCHEMA_MAPS.has(key) && value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, forSerializer(schema, resolve)]))
        : forSerializer(value, resolve);
  }
  return out;
}

function mergedAlternatives(node: SchemaNode, resolve: (ref: string) => unknown): SchemaNode {
  const given = node.oneOf ?? node.anyOf;
  if (!Array.isArray(given) || given.length === 0) return node;
  // Shared schemas (`id` in their meta) arrive as references into `definitions`.
  const alternatives = given.map((a: unknown) => (isSchema(a) && typeof a.$ref === 'string' ? resolve(a.$ref) : a));
  const objects = alternatives.filter((a): a is SchemaNode => isSchema(a) && a.type === 'object');
  const nulls = alternatives.filter((a) => isSchema(a) && a.type === 'null');
  if (objects.length === 0 || objects.length + nulls.length !== alternatives.length) return node;
  const properties: SchemaNode = {};
  for (const alternative of objects) {
    for (const [name, schema] of Object.entries((alternative.properties ?? {}) as SchemaNode)) {
      properties[name] = name in properties ? widened(properties[name], schema) : schema;
    }
  }
  const { oneOf: _oneOf, anyOf: _anyOf, ...rest } = node;
  return { ...rest, type: nulls.length > 0 ? ['object', 'null'] : 'object', properties };
}

/** A property two alternatives both have: its types joined (`md5` is a string in one, string or null in the other). */
function widened(first: unknown, second: unknown): unknown {
  if (!isSchema(first) || !isSchema(second) || first.type === undefined || second.type === undefined) return first;
  const types = new Set([first.type, second.type].flat());
  return { ...first, type: types.size === 1 ? first.type : [...types] };
}

function isSchema(value: unknown): value is SchemaNode {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const schemaCompilers = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(compileValidator);
    // Fastify's type says a serializer returns a string; it sends the Buffers asBody returns just the same.
    app.setSerializerCompiler(compileSerializer as Parameters<FastifyInstance['setSerializerCompiler']>[0]);
  },
  { name: 'schema-compilers' },
);
