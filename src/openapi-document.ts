import { readFileSync } from 'node:fs';
import { securitySchemes } from './auth/openapi.js';
import { responseExamples } from './openapi-examples.js';
import { X_CACHE_OPERATION_ID } from './routes/signature-view.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The document-level part of the OpenAPI document; the paths come from the route schemas. */
export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Signet',
    version,
    description: [
      'Tells whether a process binary is code-signed, according to Carbon Black EDR.',
      '',
      "Signet answers from an LRU cache keyed by md5 when it can; otherwise it reads the binary's record from Carbon Black.",
      'Every answer carries `verdict`:',
      '',
      "- `signed`: the record's `digsig_result` is exactly `Signed`;",
      '- `unsigned`: Carbon Black has a record and its `digsig_result` is anything else (`Expired`, `Bad Signature`, ...);',
      '- `unknown`: Carbon Black has no record of the md5 (not indexed yet, or never seen). **Unknown is not unsigned**:',
      '  treat it as "no evidence", and ask again later (it is cached for `CACHE_TTL_UNKNOWN_SECONDS`).',
      '',
      "`nameMatchesSignature` keeps the seed's join test (`process_md5:<md5> digsig_prog_name:<name>`) as a",
      "masquerading signal: a signed binary running under another tool's name answers `false`. It is not the verdict:",
      '`digsig_prog_name` is the program name inside the signature ("Windows PowerShell"), often not the file name, and',
      "Microsoft's own binaries often carry none. `signature` gives Carbon Black's fields verbatim.",
      '',
      'A Carbon Black failure is always an error (502, 503 or 504), never a verdict, and is never cached.',
      '',
      'Errors are RFC 9457 problem details (`application/problem+json`).',
    ].join('\n'),
  },
  tags: [
    { name: 'signatures', description: 'Signing verdicts' },
    { name: 'cache', description: 'The verdict cache of this instance' },
    { name: 'health', description: 'Probes' },
  ],
  components: { securitySchemes },
};

type Json = Record<string, unknown>;
type Document = Json & { paths?: Record<string, Record<string, Json>>; components?: Json & { schemas?: Record<string, Json> } };

const retryAfterHeader = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 1 },
};

const xCacheHeader = {
  description:
    '`HIT` (fresh cached verdict), `MISS` (Carbon Black was asked, alone or sharing a search) or `STALE` (expired verdict served).',
  schema: { type: 'string', enum: ['HIT', 'MISS', 'STALE'] },
};

function collectRefs(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child.replace('#/components/schemas/', ''));
      else collectRefs(child, into);
    }
  }
  return into;
}

/**
 * Finishes the document @fastify/swagger builds from the zod schemas with
 * what the schemas cannot say: problems are `application/problem+json`,
 * which answers carry `Retry-After` or `X-Cache`, and response descriptions.
 * It also drops the registry's unused input copies of shared schemas.
 */
export function finishDocument<T>(generated: T): T {
  const document = generated as Document;
  const schemas = document.components?.schemas ?? {};
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const responses = (operation.responses ?? {}) as Record<string, Json & { content?: Record<string, Json>; headers?: Json }>;
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        const jsonContent = response.content?.['application/json'];
        if (response.description === 'Default Response') {
          const ref = (jsonContent?.schema as Json | undefined)?.$ref;
          const component = typeof ref === 'string' ? schemas[ref.replace('#/components/schemas/', '')] : undefined;
          response.description = (component?.description as string | undefined) ?? 'OK';
        }
        const examples = jsonContent ? responseExamples(method, path, status) : undefined;
        if (examples && jsonContent) jsonContent.examples = examples;
        // Errors are problems, except where a route documents its own body (/readyz's 503 is its readiness report).
        const problem = (jsonContent?.schema as Json | undefined)?.$ref === '#/components/schemas/Problem';
        if (code >= 400 && problem && jsonContent && response.content) {
          response.content = { 'application/problem+json': jsonContent };
        }
        if (problem && (code === 429 || code === 503)) response.headers = { ...response.headers, 'Retry-After': retryAfterHeader };
        // By the route's operationId, not its path: a renamed path parameter once lost the header this way.
        if (code === 200 && operation.operationId === X_CACHE_OPERATION_ID) {
          response.headers = { ...response.headers, 'X-Cache': xCacheHeader };
        }
      }
    }
  }
  // Shared schemas refer to one another (Signature -> SignatureDetails): follow references until none are new.
  const used = collectRefs(document.paths, new Set());
  for (let size = -1; size !== used.size;) {
    size = used.size;
    for (const name of [...used]) collectRefs(schemas[name], used);
  }
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
  return generated;
}
