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

/** Shared with the batch item check (batch-items.ts), so both refuse exactly the same md5s. */
export const MD5 = /^[0-9A-Fa-f]{32}$/;
/** An unpaired surrogate, which no URL or JSON encoder can carry faithfully. */
export const LONE_SURROGATE = /\p{Cs}/u;

/*
 * A pattern, so the OpenAPI document states the rule for code generators,
 * readers and Swagger UI (which then flags a bad md5 before sending it). The
 * server checks the same rule and answers problem+json for any other client.
 */
export const md5Schema = stringInput('a string of 32 hexadecimal digits').regex(MD5, 'must be 32 hexadecimal digits').meta({
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
  .refine((value) => !LONE_SURROGATE.test(value), 'must not contain unpaired surrogates')
  .meta({
    description:
      'The process name the caller saw, usually the file name (`git`, `powershell.exe`). It never changes `verdict` in the default mode; `nameMatchesSignature` says whether it matches the program name in the signature (`digsig_prog_name`), which can differ from the file name. 1 to 260 characters, no control characters.',
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

/** Carbon Black's documented `digsig_result` values; others (`(Unknown)`) are passed on verbatim and count as unsigned. */
export const KNOWN_SIGNATURE_STATUSES = [
  'Signed',
  'Unsigned',
  'Expired',
  'Bad Signature',
  'Invalid Signature',
  'Invalid Chain',
  'Untrusted Root',
  'Explicit Distrust',
] as const;

export const verdictSchema = z.enum(['signed', 'unsigned', 'unknown']).meta({
  description:
    "`signed`: Carbon Black's binary record says `digsig_result` is exactly `Signed`. `unsigned`: Carbon Black has a record and its `digsig_result` is anything else (expired, tampered, untrusted, no signature). `unknown`: Carbon Black has no record of this md5 (not yet indexed, or never seen); it is not the same as unsigned and is asked again after `CACHE_TTL_UNKNOWN_SECONDS`.",
  example: 'signed',
});

export const basisSchema = z.enum(['binary-record', 'joined-search']).meta({
  description:
    "Which Carbon Black data decided: `binary-record` (the binary's record, the default) or `joined-search` (the seed's joined process search, `CB_VERDICT_SOURCE=joined-search`).",
  example: 'binary-record',
});

const optionalText = (description: string, example: string) => z.string().nullable().meta({ description, example });

export const signatureDetailsSchema = z
  .object({
    status: z.string().meta({
      description: `Carbon Black's \`digsig_result\`, verbatim. Known values: ${KNOWN_SIGNATURE_STATUSES.map((v) => `\`${v}\``).join(', ')}; only \`Signed\` makes the verdict \`signed\`.`,
      example: 'Signed',
      examples: [...KNOWN_SIGNATURE_STATUSES],
    }),
    publisher: optionalText('`digsig_publisher`; null when the record has none.', 'Apple Inc.'),
    issuer: optionalText('`digsig_issuer`; null when the record has none.', 'Apple Code Signing Certification Authority'),
    subject: optionalText('`digsig_subject`; null when the record has none.', 'Software Signing'),
    programName: optionalText(
      '`digsig_prog_name`, the program name inside the signature (often not the file name); null when the record has none.',
      'git',
    ),
    signedAt: z.string().nullable().meta({
      description: '`digsig_sign_time`, ISO 8601; null when the record has none.',
      format: 'date-time',
      example: '2017-03-28T04:14:06Z',
    }),
  })
  .nullable()
  .meta({
    id: 'SignatureDetails',
    description:
      "The signature as Carbon Black's binary record describes it; null when the verdict is unknown or the basis is `joined-search` (which reads no record).",
  });

export const nameMatchesSignatureSchema = z.boolean().nullable().meta({
  description:
    "The seed's name test, kept as a masquerading signal (not the verdict): true when the name matches the signature's program name the way `process_md5:<md5> digsig_prog_name:<name>` matches in Carbon Black (case-insensitive words, a multi-word name as a phrase), so a signed binary renamed to another tool's name answers false. False when it does not match or the signature names no program. Null when it cannot be told: the verdict is unknown, or (joined-search only) the join did not test this name.",
  example: true,
});

const verdictShape = {
  md5: z.string().meta({ description: 'The md5, lower case.', example: '82a7bf2b1f51f1988be571b8176aa545' }),
  name: z.string().meta({ description: 'The name as given.', example: 'git' }),
  verdict: verdictSchema,
  signed: z.boolean().meta({
    description: 'True exactly when `verdict` is `signed` (kept for existing callers; branch on `verdict` to tell unknown from unsigned).',
    example: true,
  }),
  signature: signatureDetailsSchema,
  nameMatchesSignature: nameMatchesSignatureSchema,
  basis: basisSchema,
  checkedAt: isoTime('When Carbon Black gave this verdict.'),
  cache: cacheInfoSchema,
};

export const signatureSchema = z
  .object(verdictShape)
  .meta({ id: 'Signature', description: 'The signing verdict for one md5/name pair. Never a verdict for a failure: failures are errors.' });

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

/*
 * Items are checked one by one in the route (batch-items.ts), so that a bad
 * item gets its own error in its place instead of failing the whole batch.
 * Here the body only has to be a batch.
 */
export const batchRequestSchema = z
  .strictObject({
    items: z
      .array(z.unknown(), { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array') })
      .min(1, 'must hold at least 1 item')
      .max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} items`)
      .meta({
        description: `1 to ${MAX_BATCH_ITEMS} md5/name pairs. An item that is not a valid pair (bad md5, empty or over-long name, unknown field) gets an error result in its place; the others are answered.`,
        items: z.toJSONSchema(batchItemSchema, { target: 'draft-2020-12' }),
      }),
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
    code: z.string().meta({ description: 'Stable machine-readable code.', example: 'CB_SERVER_ERROR' }),
    title: z.string().meta({ example: 'Carbon Black error' }),
    detail: z.string().meta({ example: 'Carbon Black answered 500' }),
    field: z
      .string()
      .optional()
      .meta({ description: 'For `INVALID_REQUEST`: the item field that is wrong (`md5`, `name`, or an unknown field).', example: 'md5' }),
  })
  .meta({ description: 'Why this item has no verdict.' });

export const batchVerdictSchema = z.object(verdictShape).meta({ id: 'BatchVerdict', description: 'A verdict, as in the single lookup.' });

export const batchErrorResultSchema = z
  .object({
    md5: z.string().nullable().meta({
      description: 'The md5 as given (lower case when valid); null when the item had no string md5.',
      example: '000000000000000000000000000000',
    }),
    name: z.string().nullable().meta({ description: 'The name as given; null when the item had no string name.', example: 'explorer.exe' }),
    error: itemErrorSchema,
  })
  .meta({ id: 'BatchError', description: 'An item without a verdict: invalid, or its lookup failed.' });

export const batchResultSchema = z
  .xor([batchVerdictSchema, batchErrorResultSchema])
  .meta({ description: 'Either a verdict or an `error`; tell them apart by the presence of `error`.' });

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
