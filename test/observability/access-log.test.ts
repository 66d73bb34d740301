import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { accessLog } from '../../src/plugins/access-log.js';

const SECRET = 'Bearer s3cr3t-caller-token-0123456789';
const MD5 = '82a7bf2b1f51f1988be571b8176aa545';

/** A pino destination that keeps every line in memory. */
function memoryStream() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { stream, lines, raw: () => lines.join('\n') };
}

type Line = Record<string, unknown>;

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** An app configured as app.ts configures Signet, with stand-ins for the lookup routes and the auth plugin. */
async function build(level = 'info') {
  const memory = memoryStream();
  const logger = createLogger({ level, pretty: false, destination: memory.stream });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  apps.push(app);
  // The authentication plugin's stand-in: it sets `request.caller` and rebinds the request's logger with it.
  if (!app.hasRequestDecorator('caller')) app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization) {
      (request as unknown as { caller: { name: string } }).caller = { name: 'soc-pipeline' };
      request.log = request.log.child({ caller: 'soc-pipeline' });
      reply.log = request.log;
    }
  });
  await app.register(accessLog, { quietRoutes: ['/healthz'] });
  app.get<{ Params: { hash: string } }>('/v1/signatures/:hash', async (request) => {
    const hash = request.params.hash.toLowerCase();
    request.lookupInfo = { hash, cacheStatus: 'miss', upstreamMs: 42.123456 };
    return { md5: hash, signed: true };
  });
  app.post('/v1/signatures/batch', async (request) => {
    request.lookupInfo = { items: 3, cached: 2 };
    return { results: [] };
  });
  app.get<{ Querystring: { fail?: string } }>('/healthz', async (request, reply) =>
    reply.code(request.query.fail ? 503 : 200).send({ status: 'ok' }),
  );
  app.get('/boom', async () => {
    throw new Error('kaboom');
  });
  await app.ready();
  /** The access lines written so far (onResponse runs once the response has finished). */
  const accessLines = async (): Promise<Line[]> => {
    await new Promise((resolve) => setImmediate(resolve));
    return memory.lines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request completed');
  };
  return { app, memory, accessLines };
}

describe('access log', () => {
  it('writes exactly one info line per request with the lookup fields', async () => {
    const { app, accessLines } = await build();
    const response = await app.inject({
      method: 'GET',
      url: `/v1/signatures/${MD5.toUpperCase()}?name=git`,
      headers: { authorization: SECRET },
    });
    expect(response.statusCode).toBe(200);
    const lines = await accessLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      reqId: response.headers['x-request-id'],
      caller: 'soc-pipeline',
      method: 'GET',
      route: '/v1/signatures/:hash',
      status: 200,
      hash: MD5,
      cache: 'miss',
      upstreamMs: 42.123,
    });
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(lines[0]).not.toHaveProperty('path');
  });

  it('writes reqId and caller once each, even when the request logger already carries them', async () => {
    const { app, memory, accessLines } = await build();
    await app.inject({ method: 'GET', url: `/v1/signatures/${MD5}`, headers: { authorization: SECRET } });
    await accessLines();
    const raw = memory.lines.find((l) => l.includes('request completed'))!;
    expect(raw.match(/"caller":/g)).toHaveLength(1);
    expect(raw.match(/"reqId":/g)).toHaveLength(1);
  });

  it('never writes a header, the Authorization value least of all', async () => {
    const { app, memory, accessLines } = await build('trace');
    for (let i = 0; i < 5; i++) {
      await app.inject({ method: 'GET', url: `/v1/signatures/${MD5}?name=x`, headers: { authorization: SECRET, 'x-auth-token': SECRET } });
    }
    await app.inject({ method: 'GET', url: '/boom', headers: { authorization: SECRET } });
    await app.inject({ method: 'GET', url: '/nope?token=abc', headers: { authorization: SECRET } });
    const lines = await accessLines();
    expect(lines).toHaveLength(7);
    expect(memory.raw()).not.toContain('s3cr3t');
    expect(memory.raw().toLowerCase()).not.toContain('authorization');
    for (const line of lines) expect(line).not.toHaveProperty('headers');
  });

  it('echoes the caller x-request-id and uses it as reqId', async () => {
    const { app, accessLines } = await build();
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-abc-123' } });
    expect(response.headers['x-request-id']).toBe('trace-abc-123');
    // A quiet route logs at debug: nothing at info.
    expect(await accessLines()).toHaveLength(0);
    const other = await app.inject({ method: 'GET', url: `/v1/signatures/${MD5}`, headers: { 'x-request-id': 'trace-def-456' } });
    expect(other.headers['x-request-id']).toBe('trace-def-456');
    expect((await accessLines())[0]).toMatchObject({ reqId: 'trace-def-456' });
  });

  it('generates a request id when none was sent, and echoes it on errors and 404s too', async () => {
    const { app, accessLines } = await build();
    const ok = await app.inject({ method: 'GET', url: `/v1/signatures/${MD5}` });
    const failed = await app.inject({ method: 'GET', url: '/boom' });
    const missing = await app.inject({ method: 'GET', url: '/nope/deeper?q=1' });
    const ids = [ok, failed, missing].map((r) => r.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
    const lines = await accessLines();
    expect(lines.map((l) => l.reqId)).toEqual(ids);
    expect(lines[1]).toMatchObject({ level: 30, route: '/boom', status: 500 });
    expect(lines[1]).not.toHaveProperty('caller');
    // No route matched: no template, so the path is shown, without its query string.
    expect(lines[2]).toMatchObject({ status: 404, path: '/nope/deeper' });
    expect(lines[2]).not.toHaveProperty('route');
  });

  it('logs quiet routes at debug when debug is enabled, and at info when they fail', async () => {
    const { app, accessLines } = await build('debug');
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/healthz?fail=1' });
    expect(await accessLines()).toEqual([
      expect.objectContaining({ level: 20, route: '/healthz', status: 200 }),
      expect.objectContaining({ level: 30, route: '/healthz', status: 503 }),
    ]);
  });

  it('logs what a batch handler recorded', async () => {
    const { app, accessLines } = await build();
    app.log.info('unrelated');
    await app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items: [] } });
    const lines = await accessLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ route: '/v1/signatures/batch', items: 3, cached: 2 });
    expect(lines[0]).not.toHaveProperty('hash');
  });

  it('takes the hash from the path when the handler recorded nothing (a validation failure), clipped', async () => {
    const memory = memoryStream();
    const app = Fastify({
      loggerInstance: createLogger({ level: 'info', pretty: false, destination: memory.stream }),
      logController: new LogController({ disableRequestLogging: true }),
      routerOptions: { maxParamLength: 2048 },
    });
    apps.push(app);
    await app.register(accessLog);
    app.get('/v1/signatures/:hash', async (_request, reply) => reply.code(400).send({ title: 'Invalid request' }));
    await app.ready();
    await app.inject({ method: 'GET', url: `/v1/signatures/${'a'.repeat(1000)}` });
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(memory.lines.at(-1)!) as Line;
    expect(line).toMatchObject({ status: 400 });
    expect((line.hash as string).length).toBeLessThan(140);
  });
});
