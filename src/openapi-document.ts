import { readFileSync } from 'node:fs';
import { securitySchemes } from './auth/openapi.js';

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
      'Signet answers from an LRU cache keyed by md5 when it can; otherwise it runs the joined process search',
      '`process_md5:<md5> digsig_prog_name:<name>` with `rows=1`, which returns a row only when the binary is signed.',
      '',
      '**Caveat:** `digsig_prog_name` is the program name in the signature ("Windows PowerShell" for powershell.exe,',
      '"Google Chrome" for chrome.exe), not the file name, so a signed binary can be reported unsigned for a name its',
      'signature does not carry. Operators can set `CB_JOIN_FIELD=digsig_result` to ask `digsig_result:Signed`, which',
      'ignores the name. A Carbon Black failure is always an error (502, 503 or 504), never `signed: false`.',
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
        if (code >= 400 && jsonContent && response.content) {
          response.content = { 'application/problem+json': jsonContent };
        }
        if (code === 429 || code === 503) response.headers = { ...response.headers, 'Retry-After': retryAfterHeader };
        if (code === 200 && method === 'get' && path === '/v1/signatures/{md5}') {
          response.headers = { ...response.headers, 'X-Cache': xCacheHeader };
        }
      }
    }
  }
  const used = collectRefs(document.paths, new Set());
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
  return generated;
}
