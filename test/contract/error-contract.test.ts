import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * Every error the API documents answers the documented problem+json: the
 * status is declared for that operation in the served OpenAPI document, the
 * media type is application/problem+json, and the body has the RFC 9457
 * members with a stable code.
 */

type Case = {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE';
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
};

const md5 = samples.signed.md5;
const batch = '/v1/signatures/batch';
const cases: Case[] = [
  {
    name: 'md5 of 30 zeros (the seed parent_md5)',
    url: `/v1/signatures/${'0'.repeat(30)}?name=git`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'hash',
  },
  {
    name: 'md5 with a non-hex digit',
    url: `/v1/signatures/${'g'.repeat(32)}?name=git`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'hash',
  },
  { name: 'md5 far too long', url: `/v1/signatures/${'a'.repeat(500)}?name=git`, status: 400, code: 'INVALID_REQUEST', field: 'hash' },
  {
    name: 'sha256 on the EDR backend',
    url: `/v1/signatures/${'a'.repeat(64)}?name=git`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'hash',
  },
  { name: 'missing name', url: `/v1/signatures/${md5}`, status: 400, code: 'INVALID_REQUEST', field: 'name' },
  { name: 'empty name', url: `/v1/signatures/${md5}?name=`, status: 400, code: 'INVALID_REQUEST', field: 'name' },
  {
    name: 'name over 260 characters',
    url: `/v1/signatures/${md5}?name=${'a'.repeat(261)}`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'name',
  },
  {
    name: 'name with a control character',
    url: `/v1/signatures/${md5}?name=git%0Aevil`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'name',
  },
  ...['caf%E9.exe', '%zz', 'a%2'].map((raw) => ({
    name: `name with invalid percent-encoding (${raw})`,
    url: `/v1/signatures/${md5}?name=${raw}`,
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'name',
  })),
  { name: 'name given twice', url: `/v1/signatures/${md5}?name=a&name=b`, status: 400, code: 'INVALID_REQUEST', field: 'name' },
  { name: 'unknown query parameter', url: `/v1/signatures/${md5}?name=git&rows=5`, status: 400, code: 'INVALID_REQUEST', field: 'rows' },
  { name: 'batch without items', method: 'POST', url: batch, payload: {}, status: 400, code: 'INVALID_REQUEST', field: 'items' },
  { name: 'empty batch', method: 'POST', url: batch, payload: { items: [] }, status: 400, code: 'INVALID_REQUEST', field: 'items' },
  {
    name: 'batch of 1001',
    method: 'POST',
    url: batch,
    payload: { items: Array.from({ length: 1001 }, () => ({ md5, name: 'git' })) },
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'items',
  },
  {
    name: 'batch with an unknown top-level field',
    method: 'POST',
    url: batch,
    payload: { items: [{ md5, name: 'git' }], all: true },
    status: 400,
    code: 'INVALID_REQUEST',
    field: 'all',
  },
  {
    name: 'batch that is not JSON',
    method: 'POST',
    url: batch,
    payload: '{"items": [',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'batch sent as text',
    method: 'POST',
    url: batch,
    payload: 'items',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'batch over the body limit',
    method: 'POST',
    url: batch,
    payload: JSON.stringify({ items: [{ md5, name: 'x'.repeat(2 * 1024 * 1024) }] }),
    headers: { 'content-type': 'application/json' },
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
  { name: 'forget with a bad md5', method: 'DELETE', url: '/v1/cache/xyz', status: 400, code: 'INVALID_REQUEST', field: 'hash' },
];

let stack: Stack;
let document: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

beforeAll(async () => {
  stack = await startStack({ env: { CB_RETRIES: '0', CB_TIMEOUT_MS: '300', CB_DEADLINE_MS: '2000', CB_BREAKER_THRESHOLD: '1000' } });
  document = (await stack.app.inject('/openapi.json')).json();
});
afterAll(() => stack.close());

function documentedStatuses(method: string, url: string): string[] {
  const path = url
    .split('?')[0]!
    .replace(/^\/v1\/signatures\/(?!batch)[^/]+$/, '/v1/signatures/{hash}')
    .replace(/^\/v1\/cache\/[^/]+$/, '/v1/cache/{hash}');
  return Object.keys(document.paths[path]?.[method.toLowerCase()]?.responses ?? {});
}

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.instance).toBe('string');
  return body;
}

describe('documented request errors', () => {
  it.each(cases)('$name → $status $code', async ({ method = 'GET', url, payload, headers, status, code, field }) => {
    const response = await stack.app.inject({
      method,
      url,
      ...(payload !== undefined && { payload: payload as string }),
      ...(headers && { headers }),
    });
    const body = expectProblem(response, status, code);
    expect(documentedStatuses(method, url)).toContain(String(status));
    if (field) {
      expect((body.errors as Array<{ field: string }>).map((error) => error.field)).toContain(field);
      expect(body.detail).toContain(field);
    }
  });

  it.each([
    { item: { md5: 'nope', name: 'x' }, field: 'md5' },
    { item: { md5, name: 'git', path: 'c:\\x' }, field: 'path' },
    { item: { md5, name: '' }, field: 'name' },
  ])('a malformed batch item ($field) → 200, with its own 400 INVALID_REQUEST in its place', async ({ item, field }) => {
    const response = await stack.app.inject({ method: 'POST', url: batch, payload: { items: [{ md5, name: 'git' }, item] } });
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<Record<string, unknown>> }>();
    expect(results[0]).toMatchObject({ md5, verdict: 'signed' });
    expect(results[1]).toMatchObject({ error: { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', field } });
    expect((results[1]!.error as { detail: string }).detail).toContain(field);
    expect(documentedStatuses('POST', batch)).toContain('200');
  });

  it('an unknown route → 404 NOT_FOUND', async () => {
    expectProblem(await stack.app.inject('/v2/everything'), 404, 'NOT_FOUND');
  });
});

describe('documented upstream errors', () => {
  it('Carbon Black failing → 502, not cached', async () => {
    stack.app.signatures.cache.clear();
    stack.simulator.simulator.setFaults({ errorRate: 1, errorStatus: 500 });
    const response = await stack.app.inject(`/v1/signatures/${samples.python.md5}?name=python`);
    stack.simulator.simulator.clearFaults();
    expectProblem(response, 502, 'CB_SERVER_ERROR');
    expect(documentedStatuses('GET', '/v1/signatures/x')).toContain('502');
    expect(stack.app.signatures.stats().size).toBe(0);
  });

  it('Carbon Black rejecting the token → 502 saying so', async () => {
    stack.simulator.simulator.setFaults({ errorRate: 1, errorStatus: 401 });
    const response = await stack.app.inject(`/v1/signatures/${samples.python.md5}?name=python`);
    stack.simulator.simulator.clearFaults();
    const body = expectProblem(response, 502, 'CB_TOKEN_REJECTED');
    expect(body.title).toBe('Carbon Black rejected the API token');
    expect(response.body).not.toContain(stack.config.carbonBlack.token);
  });

  it('Carbon Black not answering → 504', async () => {
    stack.simulator.simulator.setFaults({ hangRate: 1 });
    const response = await stack.app.inject(`/v1/signatures/${samples.python.md5}?name=python`);
    stack.simulator.simulator.clearFaults();
    expectProblem(response, 504, 'CB_TIMEOUT');
    expect(documentedStatuses('GET', '/v1/signatures/x')).toContain('504');
  });

  it('a bug → 500 with no internals', async () => {
    const config = loadConfig({ CB_URL: 'http://127.0.0.1:9', CB_API_TOKEN: 't', AUTH_DISABLED: 'true' });
    const bug = () => Promise.reject(new TypeError('secret internal detail at /srv/signet/src/x.ts:12'));
    const app = await buildApp(config, { carbonBlack: { isSigned: bug, binarySummary: bug, searchBinaries: bug } });
    const response = await app.inject(`/v1/signatures/${md5}?name=git`);
    await app.close();
    const body = expectProblem(response, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toMatch(/secret internal detail|\/srv\/|TypeError/);
  });
});
