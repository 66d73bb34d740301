import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authentication } from '../../src/plugins/authentication.js';
import { schemaCompilers } from '../../src/plugins/schema-compilers.js';
import { ADMIN_KEY, bearer, buildTestApp, LOOKUP_KEY, testKeys } from './support.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app.close());

const thing = '/v1/things/42';

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}` });
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('API-key authentication', () => {
  it('answers 401 with a bare Bearer challenge when no key is sent', async () => {
    const response = await app.inject({ url: thing });
    const body = expectProblem(response, 401, 'UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="signet"');
    expect(body.instance).toBe(thing);
    expect(body.detail).toContain('Authorization: Bearer <key>');
  });

  it('treats another scheme as no key (RFC 6750: no error code)', async () => {
    const response = await app.inject({
      url: thing,
      headers: { authorization: `Basic ${Buffer.from(`x:${LOOKUP_KEY}`).toString('base64')}` },
    });
    expectProblem(response, 401, 'UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="signet"');
  });

  it('answers 401 invalid_token for a wrong key, without echoing it', async () => {
    const wrong = `${LOOKUP_KEY}x`;
    const response = await app.inject({ url: thing, headers: bearer(wrong) });
    expectProblem(response, 401, 'UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="signet", error="invalid_token"');
    expect(response.body).not.toContain(wrong);
  });

  it.each(['Bearer', 'Bearer ', `Bearer ${LOOKUP_KEY} extra`, `Bearer ${LOOKUP_KEY.slice(0, 8)}\t${LOOKUP_KEY.slice(8)}`])(
    'answers 401 invalid_token for a malformed Bearer header %j',
    async (authorization) => {
      const response = await app.inject({ url: thing, headers: { authorization } });
      expectProblem(response, 401, 'UNAUTHORIZED');
      expect(response.headers['www-authenticate']).toBe('Bearer realm="signet", error="invalid_token"');
    },
  );

  it('serves a configured key and tells the route who called', async () => {
    const response = await app.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: '42', caller: 'reader' });
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('ignores spaces and tabs around the header value, as HTTP does (a request that did not come through the parser keeps them)', async () => {
    for (const authorization of [
      `Bearer ${LOOKUP_KEY} `,
      `Bearer ${LOOKUP_KEY}\t`,
      ` Bearer ${LOOKUP_KEY}`,
      `\t Bearer ${LOOKUP_KEY} \t`,
    ]) {
      const response = await app.inject({ url: thing, headers: { authorization } });
      expect(response.statusCode, JSON.stringify(authorization)).toBe(200);
    }
    for (const authorization of [' ', '\t', `Bearer ${LOOKUP_KEY} x`]) {
      const response = await app.inject({ url: thing, headers: { authorization } });
      expect(response.statusCode, JSON.stringify(authorization)).toBe(401);
    }
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the scheme written %s, and several spaces before the key', async (scheme) => {
    for (const authorization of [`${scheme} ${LOOKUP_KEY}`, `${scheme}   ${LOOKUP_KEY}`]) {
      const response = await app.inject({ url: thing, headers: { authorization } });
      expect(response.statusCode, authorization).toBe(200);
    }
  });

  it('answers 403 naming the role needed when a lookup key calls an admin route', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/v1/admin/things', headers: bearer(LOOKUP_KEY) });
    const body = expectProblem(response, 403, 'FORBIDDEN');
    expect(body.detail).toContain('"admin" role');
    expect(response.body).not.toContain(LOOKUP_KEY);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('lets an admin key call admin routes and lookup routes', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/v1/admin/things', headers: bearer(ADMIN_KEY) })).statusCode).toBe(204);
    const lookup = await app.inject({ url: thing, headers: bearer(ADMIN_KEY) });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.json()).toEqual({ id: '42', caller: 'ops' });
  });

  it('leaves routes without config.auth open, whatever the Authorization header', async () => {
    for (const headers of [{}, bearer('not-a-key-at-all-000'), { authorization: 'garbage' }]) {
      const response = await app.inject({ url: '/healthz', headers });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
    }
    expect((await app.inject({ url: '/whoami' })).json()).toEqual({ caller: null });
  });

  it('answers an unknown path 404, not 401', async () => {
    const response = await app.inject({ url: '/v1/nothing-here' });
    expectProblem(response, 404, 'NOT_FOUND');
  });

  it('checks the key before reading the body, and validates the body after', async () => {
    const unauthenticated = await app.inject({
      method: 'POST',
      url: '/v1/things/batch',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expectProblem(unauthenticated, 401, 'UNAUTHORIZED');
    const invalid = await app.inject({ method: 'POST', url: '/v1/things/batch', headers: bearer(LOOKUP_KEY), payload: { items: 'x' } });
    expectProblem(invalid, 400, 'INVALID_REQUEST');
    const ok = await app.inject({ method: 'POST', url: '/v1/things/batch', headers: bearer(LOOKUP_KEY), payload: { items: ['a', 'b'] } });
    expect(ok.json()).toEqual({ count: 2 });
  });

  it('also guards the HEAD route Fastify adds for a GET route', async () => {
    expect((await app.inject({ method: 'HEAD', url: thing })).statusCode).toBe(401);
    expect((await app.inject({ method: 'HEAD', url: thing, headers: bearer(LOOKUP_KEY) })).statusCode).toBe(200);
  });
});

describe('authentication logs', () => {
  it('name the caller in refusals, and never carry a key', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const logged = await buildTestApp({ logger: pino({ level: 'info' }, sink) });
    try {
      await logged.inject({ url: thing, headers: bearer(LOOKUP_KEY) });
      await logged.inject({ url: thing, headers: bearer(`${ADMIN_KEY}-wrong`) });
      await logged.inject({ method: 'DELETE', url: '/v1/admin/things', headers: bearer(LOOKUP_KEY) });
    } finally {
      await logged.close();
    }
    const text = JSON.stringify(lines);
    expect(text).not.toContain(LOOKUP_KEY);
    expect(text).not.toContain(ADMIN_KEY.slice(10, 30));
    // The access line names the caller of every request (test/observability); no child logger per request.
    expect(lines.find((line) => line.msg === 'request not authenticated')).toMatchObject({ auth: 'unknown', level: 30 });
    expect(lines.find((line) => line.msg === 'caller lacks the role')).toMatchObject({ caller: 'reader', role: 'lookup', needed: 'admin' });
  });
});

describe('the authentication plugin', () => {
  it('refuses a route whose config.auth is not a role', async () => {
    const bad = Fastify();
    await bad.register(schemaCompilers);
    await bad.register(authentication, { keys: testKeys, disabled: false });
    expect(() => bad.get('/x', { config: { auth: 'root' as never } }, async () => 'x')).toThrow(
      /config\.auth must be one of lookup, admin/,
    );
    await bad.close();
  });

  it('refuses to run with no keys unless disabled', async () => {
    const bad = Fastify();
    await bad.register(schemaCompilers);
    await expect(bad.register(authentication, { keys: [], disabled: false })).rejects.toThrow(/no API keys/);
    await bad.close();
  });

  it('must come after the zod schema compilers it relies on', async () => {
    const bad = Fastify();
    await expect(bad.register(authentication, { keys: testKeys, disabled: false })).rejects.toThrow(/schema-compilers/);
    await bad.close();
  });
});
