import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { bearer, buildTestApp } from './support.js';

describe('AUTH_DISABLED=true', () => {
  it('serves every route without a key, as the anonymous admin, and warns at start', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const app = await buildTestApp({ keys: [], disabled: true, logger: pino({ level: 'warn' }, sink) });
    try {
      const lookup = await app.inject({ url: '/v1/things/7' });
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json()).toEqual({ id: '7', caller: 'anonymous' });
      // A key, right or wrong, changes nothing.
      expect((await app.inject({ url: '/v1/things/7', headers: bearer('whatever-0123456789') })).statusCode).toBe(200);
      expect((await app.inject({ method: 'DELETE', url: '/v1/admin/things' })).statusCode).toBe(204);
      // Every request, public ones included, has the anonymous caller.
      expect((await app.inject({ url: '/whoami' })).json()).toEqual({ caller: { name: 'anonymous', role: 'admin' } });
    } finally {
      await app.close();
    }
    const warning = lines.find((line) => String(line.msg).includes('AUTH_DISABLED=true'));
    expect(warning).toMatchObject({ level: 40 });
  });
});
