import { z } from 'zod';

/*
 * The zod schemas that validate requests and describe responses. The OpenAPI
 * document is generated from these, so every field carries a description and
 * an example.
 */

/** Zod's default message names types; callers of a query string need plainer words. */
const stringInput = (what: string) =>
  z.string({
    error: (issue) =>
      issue.input === undefined ? 'is required' : Array.isArray(issue.input) ? 'must be given only once' : `must be ${what}`,
  });

const MD5 = /^[0-9A-Fa-f]{32}$/;

/*
 * A refinement rather than a regex on purpose: the rule then stays out of the
 * OpenAPI schema (the description states it), so Swagger UI sends a bad md5
 * and shows the server's problem+json, the same answer a playbook gets,
 * instead of blocking it client-side.
 */
export const md5Schema = stringInput('a string of 32 hexadecimal digits')
  .refine((value) => MD5.test(value), 'must be 32 hexadecimal digits')
  .meta({
    description: 'MD5 of the process binary, 32 hexadecimal digits (any case; answers use lower case).',
    example: '82a7bf2b1f51f1988be571b8176aa545',
  });

export const MAX_NAME_LENGTH = 260;

export const nameSchema = stringInput('a string')
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  // Control characters (Unicode Cc: C0, DEL, C1) have no place in a process name and would only hide in
  // logs. Spelled as ranges, not \p{Cc}, so the OpenAPI pattern works in regex engines without Unicode
  // property classes, Swagger UI's among them.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  .regex(/^[^\x00-\x1F\x7F-\x9F]*$/, 'must not contain control characters')
  // An unpaired surrogate is no character at all; URL encoding would turn it into U+FFFD and Carbon
  // Black would be asked about another name than the one answered. (A refinement: no schema pattern.)
  .refine((value) => !/\p{Cs}/u.test(value), 'must not contain unpaired surrogates')
  .meta({
    description:
      'Process name to join on, usually the file name (`git`, `powershell.exe`). Carbon Black matches it against the program name in the signature (`digsig_prog_name`), which can differ from the file name. 1 to 260 characters, no control characters.',
    example: 'git',
  });

export const cacheStatusSchema = z.enum(['hit', 'miss', 'stale', 'coalesced']).meta({
  description:
    '`hit`: a fresh cached verdict; `miss`: Carbon Black was asked for this request; `coalesced`: this request shared a Carbon Black search already running for the same md5; `stale`: an expired verdict served because Carbon Black failed (stale-if-error) or while it is refreshed in the background (stale-while-revalidate).',
  example: 'hit',
});

const isoTime = (description: string) => z.string().meta({ description, format: 'date-time', example: '2026-11-27T23:09:41.000Z' });

export const cacheInfoSchema = z
  .object({
    hit: z.boolean().meta({ description: 'True when the verdict came from the cache (`hit` or `stale`).', example: true }),
    status: cacheStatusSchema,
    storedAt: isoTime('When the verdict was stored (the same moment as `checkedAt`).'),
    ageSeconds: z.number().int().meta({ description: 'Whole seconds since the verdict was stored.', example: 12 }),
    expiresAt: isoTime('When the verdict stops being fresh; after it Carbon Black is asked again.'),
  })
  .meta({ description: 'How the answer was obtained.' });

export const signatureSchema = z
  .object({
    md5: z.string().meta({ description: 'The md5, lower case.', example: '82a7bf2b1f51f1988be571b8176aa545' }),
    name: z.string().meta({ description: 'The name as given.', example: 'git' }),
    signed: z.boolean().meta({
      description:
        'True when Carbon Black holds a signature for this binary that joins this name; false when it has none. Never false because of a failure: failures are errors.',
      example: true,
    }),
    checkedAt: isoTime('When Carbon Black gave this verdict.'),
    cache: cacheInfoSchema,
  })
  .meta({ id: 'Signature', description: 'The signing verdict for one md5/name pair.' });

export const signatureParamsSchema = z.object({ md5: md5Schema });

export const signatureQuerySchema = z.strictObject({ name: nameSchema });

export const fieldErrorSchema = z.object({
  location: z.enum(['path', 'query', 'body', 'header']).meta({ description: 'Where the field is.', example: 'query' }),
  field: z.string().meta({ description: 'The field, as a path (`items/3/md5` in a batch).', example: 'name' }),
  message: z.string().meta({ example: 'must not be empty' }),
});

export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'A URI naming the kind of problem; stable.', example: 'urn:signet:problem:invalid-request' }),
    title: z.string().meta({ description: 'Short summary of the kind of problem.', example: 'Invalid request' }),
    status: z.number().int().meta({ description: 'The HTTP status code.', example: 400 }),
    detail: z.string().meta({ description: 'What went wrong this time.', example: 'query parameter "name" must not be empty' }),
    instance: z
      .string()
      .meta({ description: 'The request path this problem is about.', example: '/v1/signatures/82a7bf2b1f51f1988be571b8176aa545' }),
    code: z.string().optional().meta({ description: 'Stable machine-readable code.', example: 'INVALID_REQUEST' }),
    errors: z.array(fieldErrorSchema).optional().meta({ description: 'Every invalid field, for 400s.' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem details object (`application/problem+json`).' });

export const MAX_BATCH_ITEMS = 1000;

export const batchItemSchema = z.strictObject({ md5: md5Schema, name: nameSchema });

export const batchRequestSchema = z
  .strictObject({
    items: z
      .array(batchItemSchema, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array') })
      .min(1, 'must hold at least 1 item')
      .max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} items`)
      .meta({ description: `1 to ${MAX_BATCH_ITEMS} md5/name pairs.` }),
  })
  .meta({
    example: {
      items: [
        { md5: '82a7bf2b1f51f1988be571b8176aa545', name: 'git' },
        { md5: '3d485deffe2f74d0c15f1cb23086f936', name: 'nc' },
      ],
    },
  });

export const itemErrorSchema = z
  .object({
    status: z.number().int().meta({ description: 'The status a single lookup would have answered.', example: 502 }),
    title: z.string().meta({ example: 'Carbon Black error' }),
    detail: z.string().meta({ example: 'Carbon Black answered 500' }),
    code: z.string().optional().meta({ example: 'CB_SERVER_ERROR' }),
  })
  .meta({ description: 'Why this item has no verdict.' });

/*
 * One flat object rather than a oneOf, so that playbooks read it without
 * branching on shape and the serializer never has to try alternatives.
 */
export const batchResultSchema = z
  .object({
    md5: z.string().meta({ description: 'The md5, lower case.', example: '82a7bf2b1f51f1988be571b8176aa545' }),
    name: z.string().meta({ description: 'The name as given.', example: 'git' }),
    signed: z.boolean().optional().meta({ description: 'Present when the lookup succeeded.', example: true }),
    checkedAt: isoTime('Present when the lookup succeeded.').optional(),
    cache: cacheInfoSchema.optional(),
    error: itemErrorSchema.optional(),
  })
  .meta({ description: 'Either a verdict (`signed`, `checkedAt`, `cache`) or an `error`.' });

export const batchResponseSchema = z.object({
  results: z.array(batchResultSchema).meta({ description: 'One result per item, in request order.' }),
});

export const cacheStatsSchema = z.object({
  size: z.number().int().meta({ description: 'Entries held, fresh or expired.', example: 1523 }),
  maxEntries: z.number().int().meta({ description: 'Capacity (`CACHE_MAX_ENTRIES`).', example: 100000 }),
  hits: z.number().int().meta({ description: 'Lookups answered from the cache since start.', example: 9120 }),
  misses: z.number().int().meta({ description: 'Lookups that needed Carbon Black since start.', example: 1611 }),
  hitRatio: z.number().meta({ description: 'hits / (hits + misses); 0 before any lookup.', example: 0.85 }),
});

export const healthSchema = z.object({ status: z.literal('ok').meta({ example: 'ok' }) });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'starting', 'stopping']).meta({ example: 'ready' }),
  carbonBlack: z
    .object({
      breaker: z.enum(['closed', 'open', 'half-open']).meta({
        description: '`open`: Carbon Black is failing and lookups that need it fail fast; the cache still serves.',
        example: 'closed',
      }),
      inFlight: z.number().int().meta({ description: 'Carbon Black requests running now.', example: 0 }),
      queued: z.number().int().meta({ description: 'Lookups waiting for a Carbon Black slot.', example: 0 }),
    })
    .meta({ description: "Carbon Black's state as Signet sees it. Signet stays ready while Carbon Black is down." }),
});
