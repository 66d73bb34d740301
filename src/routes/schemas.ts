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

/** Shared with the batch item check (batch-items.ts), so both refuse exactly the same hashes. */
export const MD5 = /^[0-9A-Fa-f]{32}$/;
export const SHA256 = /^[0-9A-Fa-f]{64}$/;
/** The lookup path takes either; which ones a backend indexes is checked after (VerdictSource.hashKinds). */
export const HASH = /^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})$/;
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

export const sha256Schema = stringInput('a string of 64 hexadecimal digits').regex(SHA256, 'must be 64 hexadecimal digits').meta({
  description:
    'SHA-256 of the process binary, 64 hexadecimal digits (any case; answers use lower case). Carbon Black Cloud only (`CB_BACKEND=cloud`); EDR indexes md5 and answers 400.',
  example: '1f3a2ed0b1c4e8f9b2d4a1c6e5f7089a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e',
});

export const hashSchema = stringInput('a string of 32 or 64 hexadecimal digits')
  .regex(HASH, 'must be an md5 (32 hexadecimal digits) or a sha256 (64 hexadecimal digits)')
  .meta({
    description:
      "The binary's MD5 (32 hexadecimal digits) or, on Carbon Black Cloud (`CB_BACKEND=cloud`), its SHA-256 (64); any case, answers use lower case. On EDR a sha256 answers 400: EDR indexes md5.",
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
    '`hit`: a fresh verdict from the cache of this instance; `miss`: not in the cache of this instance, so Carbon Black was asked for this request (with a shared cache, `REDIS_URL`, the verdict of the fleet may have answered instead: `cache.storedAt` then tells when Carbon Black gave it); `coalesced`: this request shared a Carbon Black search already running for the same binary; `stale`: an expired verdict served because Carbon Black failed (stale-if-error) or while it is refreshed in the background (stale-while-revalidate).',
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
    "EDR: `signed` when the binary's record says `digsig_result` is exactly `Signed`; `unsigned` when Carbon Black has a record and its `digsig_result` is anything else (expired, tampered, untrusted, no signature); `unknown` when it has no record (not yet indexed, or never seen). Cloud: `signed` when `process_publisher_state` holds `VERIFIED` and `SIGNED` or `CATALOG_SIGNED`, without `INVALID` or `NOT_SIGNED`; `unsigned` when it holds `INVALID` or `NOT_SIGNED`, or a signature that is not verified; `unknown` when no process has the hash or the states decide nothing. `unknown` is not unsigned and is asked again after `CACHE_TTL_UNKNOWN_SECONDS`.",
  example: 'signed',
});

export const basisSchema = z.enum(['binary-record', 'joined-search', 'cloud-process-search']).meta({
  description:
    "Which Carbon Black data decided: `binary-record` (EDR's binary record, the default), `joined-search` (EDR's joined process search, `CB_VERDICT_SOURCE=joined-search`) or `cloud-process-search` (Carbon Black Cloud's process search, `CB_BACKEND=cloud`).",
  example: 'binary-record',
});

const optionalText = (description: string, example: string) => z.string().nullable().meta({ description, example });

export const signatureDetailsSchema = z
  .object({
    status: z
      .string()
      .nullable()
      .meta({
        description: `EDR: Carbon Black's \`digsig_result\`, verbatim. Known values: ${KNOWN_SIGNATURE_STATUSES.map((v) => `\`${v}\``).join(', ')}; only \`Signed\` makes the verdict \`signed\`. Cloud: the state that decided the verdict (\`FILE_SIGNATURE_STATE_VERIFIED\`, \`FILE_SIGNATURE_STATE_NOT_SIGNED\`, ...), null when none did.`,
        example: 'Signed',
        examples: [...KNOWN_SIGNATURE_STATUSES, 'FILE_SIGNATURE_STATE_VERIFIED'],
      }),
    publisher: optionalText('`digsig_publisher`; null when the record has none.', 'Apple Inc.'),
    issuer: optionalText('`digsig_issuer`; null when the record has none.', 'Apple Code Signing Certification Authority'),
    subject: optionalText('`digsig_subject`; null when the record has none.', 'Software Signing'),
    programName: optionalText(
      '`digsig_prog_name`, the program name inside the signature (often not the file name); null when the record has none.',
      'git',
    ),
    signedAt: z.string().nullable().meta({
      description: '`digsig_sign_time`, ISO 8601; null when the record has none (always on Cloud).',
      format: 'date-time',
      example: '2017-03-28T04:14:06Z',
    }),
    states: z
      .array(z.string())
      .readonly()
      .nullable()
      .meta({
        description:
          "Cloud: every `process_publisher_state` value Carbon Black reported for the binary's processes, verbatim, so the verdict rule can be checked. Null on EDR.",
        example: null,
        examples: [
          ['FILE_SIGNATURE_STATE_OS', 'FILE_SIGNATURE_STATE_SIGNED', 'FILE_SIGNATURE_STATE_TRUSTED', 'FILE_SIGNATURE_STATE_VERIFIED'],
        ],
      }),
  })
  .nullable()
  .meta({
    id: 'SignatureDetails',
    description:
      "The signature as Carbon Black describes it (EDR: the binary's record; Cloud: the processes' publisher and states); null when Carbon Black has nothing on the binary or the basis is `joined-search` (which reads no record).",
  });

export const nameMatchesSignatureSchema = z.boolean().nullable().meta({
  description:
    "The seed's name test, kept as a masquerading signal (not the verdict): true when the name matches the signature's program name the way `process_md5:<md5> digsig_prog_name:<name>` matches in Carbon Black (case-insensitive words, a multi-word name as a phrase), so a signed binary renamed to another tool's name answers false. False when it does not match or the signature names no program. Null when it cannot be told: the verdict is unknown, (joined-search only) the join did not test this name, or on Cloud, whose signature data names no program.",
  example: true,
});

const verdictShape = {
  md5: z.string().nullable().meta({
    description: "The binary's md5, lower case; null when it was looked up by sha256 and Carbon Black gave no md5 for it.",
    example: '82a7bf2b1f51f1988be571b8176aa545',
  }),
  sha256: z.string().nullable().meta({
    description:
      "The binary's sha256, lower case, when it was looked up by it or Carbon Black Cloud reported it; null otherwise (always on EDR).",
    example: null,
  }),
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

export const signatureSchema = z.object(verdictShape).meta({
  id: 'Signature',
  description: 'The signing verdict for one binary and name. Never a verdict for a failure: failures are errors.',
});

export const signatureParamsSchema = z.object({ hash: hashSchema });

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
    retryable: z.boolean().meta({
      description:
        'Whether the same request may succeed later: true when Carbon Black or Signet is busy or failing for now (wait for `Retry-After` when it is set), false when something must be fixed first (the input, an API key, Carbon Black credentials or certificate).',
      example: false,
    }),
    errors: z.array(fieldErrorSchema).optional().meta({ description: 'Every invalid field, for 400s.' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem details object (`application/problem+json`).' });

export const MAX_BATCH_ITEMS = 1000;

export const md5ItemSchema = z.strictObject({ md5: md5Schema, name: nameSchema });
export const sha256ItemSchema = z.strictObject({ sha256: sha256Schema, name: nameSchema });
/** For the OpenAPI document; batch-items.ts checks an item against the one of the two its keys call for. */
export const batchItemSchema = z.union([md5ItemSchema, sha256ItemSchema]);

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
        description: `1 to ${MAX_BATCH_ITEMS} items, each \`{md5, name}\` or (Carbon Black Cloud) \`{sha256, name}\`. An item that is not valid (bad hash, both or neither hash, empty or over-long name, unknown field, a sha256 on EDR) gets an error result in its place; the others are answered.`,
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
    retryable: z
      .boolean()
      .meta({ description: 'Whether this item may get a verdict if asked again later (see Problem.retryable).', example: true }),
    retryAfterSeconds: z
      .number()
      .int()
      .optional()
      .meta({ description: 'For a retryable failure: the seconds a single lookup would have sent as `Retry-After`.', example: 5 }),
    field: z.string().optional().meta({
      description: 'For `INVALID_REQUEST`: the item field that is wrong (`md5`, `sha256`, `name`, or an unknown field).',
      example: 'md5',
    }),
  })
  .meta({ description: 'Why this item has no verdict.' });

export const batchVerdictSchema = z.object(verdictShape).meta({ id: 'BatchVerdict', description: 'A verdict, as in the single lookup.' });

export const batchErrorResultSchema = z
  .object({
    md5: z.string().nullable().meta({
      description: 'The md5 as given (lower case when valid); null when the item had no string md5.',
      example: '000000000000000000000000000000',
    }),
    sha256: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'The sha256 as given (lower case when valid), when the item had one.', example: null }),
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

export const versionSchema = z
  .object({
    version: z
      .string()
      .meta({ description: "Signet's version (the image's `VERSION` build argument, else package.json's).", example: '0.2.0' }),
    revision: z.string().meta({ description: 'The git revision of the build, or `unknown`.', example: '4fef89d1c2' }),
    node: z.string().meta({ description: 'The Node.js version it runs on.', example: 'v24.21.0' }),
    backend: z.enum(['edr', 'cloud']).meta({ description: 'The Carbon Black product it asks (`CB_BACKEND`).', example: 'edr' }),
  })
  .meta({ id: 'Version' });

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
  sharedCache: z.enum(['up', 'down', 'disabled']).meta({
    description:
      "The fleet's shared cache (REDIS_URL): `up`, `down` (lookups carry on with this instance's cache and single flight; still ready), or `disabled` (no REDIS_URL).",
    example: 'up',
  }),
});
