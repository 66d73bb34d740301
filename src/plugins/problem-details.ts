import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { FieldError } from '../errors.js';
import { HttpProblem, problemFromError } from '../errors.js';

/**
 * Every error leaves as `application/problem+json` (RFC 9457). Validation
 * errors name each bad field; framework errors keep their 4xx status with a
 * plain detail; anything unexpected is logged and answered as a bare 500.
 */

const locations = { params: 'path', querystring: 'query', body: 'body', headers: 'header' } as const;
const locationWords = { path: 'path parameter', query: 'query parameter', body: 'body field', header: 'header' } as const;

function validationProblem(error: FastifyError & { validation: unknown[] }): HttpProblem {
  const context = (error.validationContext ?? 'body') as keyof typeof locations;
  const location = locations[context] ?? 'body';
  const errors: FieldError[] = error.validation.flatMap((issue) => {
    const { keyword, instancePath, message, params } = issue as {
      keyword?: string;
      instancePath: string;
      message?: string;
      params?: { keys?: string[] };
    };
    const path = instancePath.replace(/^\//, '');
    // Zod reports unknown fields once for their parent; callers need each one named.
    if (keyword === 'unrecognized_keys' && params?.keys) {
      return params.keys.map((key) => ({ location, field: path ? `${path}/${key}` : key, message: 'is not a known field' }));
    }
    return [{ location, field: path || '(root)', message: message ?? 'is invalid' }];
  });
  const first = errors[0];
  const detail = first
    ? `${locationWords[first.location]} "${first.field}" ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`
    : 'the request is invalid';
  return new HttpProblem({ status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', detail, errors });
}

/** Fastify's own 4xx errors (body too large, bad content type, bad JSON) with wording for callers. */
function frameworkProblem(error: FastifyError): HttpProblem | undefined {
  const status = error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem({
        status: 413,
        code: 'BODY_TOO_LARGE',
        title: 'Request body too large',
        detail: 'The request body is larger than Signet accepts.',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem({
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        title: 'Unsupported media type',
        detail: 'Send the request body as application/json.',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem({ status: 400, code: 'INVALID_JSON', title: 'Invalid JSON', detail: 'The request body is not valid JSON.' });
    default:
      if (error instanceof SyntaxError) {
        return new HttpProblem({ status: 400, code: 'INVALID_JSON', title: 'Invalid JSON', detail: 'The request body is not valid JSON.' });
      }
      return new HttpProblem({
        status,
        code: error.code ?? 'BAD_REQUEST',
        title: 'Bad request',
        // Fastify's 4xx messages describe the request, not the server; they are safe to show.
        detail: error.message,
      });
  }
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: HttpProblem): FastifyReply {
  if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds));
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send({
      type: problem.type,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: request.url.split('?', 1)[0],
      code: problem.code,
      retryable: problem.retryable,
      ...(problem.errors && { errors: problem.errors }),
    });
}

export const problemDetails = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      let problem: HttpProblem;
      if (hasZodFastifySchemaValidationErrors(error)) problem = validationProblem(error);
      else problem = frameworkProblem(error) ?? problemFromError(error);
      if (problem.status >= 500) {
        const internal = problem.code === 'INTERNAL_ERROR';
        request.log[internal ? 'error' : 'warn']({ err: error, code: problem.code }, internal ? 'request failed' : 'upstream failure');
      }
      return sendProblem(reply, request, problem);
    });
    // Every route's path pattern and methods, so that a known path asked with another method is a 405.
    const routes: Array<{ path: RegExp; methods: Set<string> }> = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const source = route.url
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      const path = new RegExp(`^${source}$`);
      const known = routes.find((r) => r.path.source === path.source);
      if (known) for (const method of methods) known.methods.add(method);
      else routes.push({ path, methods: new Set(methods) });
    });
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?', 1)[0] ?? '';
      const allowed = new Set<string>();
      for (const route of routes) if (route.path.test(path)) for (const method of route.methods) allowed.add(method);
      if (allowed.size > 0) {
        const allow = [...allowed].sort().join(', ');
        reply.header('allow', allow);
        return sendProblem(
          reply,
          request,
          new HttpProblem({
            status: 405,
            code: 'METHOD_NOT_ALLOWED',
            title: 'Method not allowed',
            detail: `${path} answers ${allow}, not ${request.method}.`,
          }),
        );
      }
      return sendProblem(
        reply,
        request,
        new HttpProblem({ status: 404, code: 'NOT_FOUND', title: 'Not found', detail: `No route serves ${request.method} ${path}.` }),
      );
    });
  },
  { name: 'problem-details' },
);
