import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { ADMIN_KEY, buildTestApp, LOOKUP_KEY, OTHER_LOOKUP_KEY, testKeys } from './support.js';

const configured = new Map([
  [LOOKUP_KEY, 'reader'],
  [OTHER_LOOKUP_KEY, 'other'],
  [ADMIN_KEY, 'ops'],
]);

/** The rule, stated plainly: "bearer" in any case, one or more spaces, then exactly a configured key. */
function expectedCaller(header: string): string | undefined {
  const match = /^bearer( +)(.*)$/is.exec(header);
  return match ? configured.get(match[2]!) : undefined;
}

const keyArb = fc.constantFrom(...configured.keys());
const schemeArb = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR', 'Bearer:', 'Basic', 'Token', 'Bearerx', 'Bear', '');
const spacesArb = fc.constantFrom(' ', '  ', '\t', '', ' \t', '\u00a0');
/** Near misses: the key with a character changed, added, dropped, case-flipped, or wrapped. */
const nearKeyArb = fc.tuple(keyArb, fc.nat(), fc.string({ maxLength: 3 })).chain(([key, at, extra]) => {
  const i = at % key.length;
  return fc.constantFrom(
    key,
    key.slice(0, i) + key.slice(i + 1),
    key.slice(0, i) + extra + key.slice(i),
    key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) ^ 0x20) + key.slice(i + 1),
    key.toUpperCase(),
    `${key}${extra}`,
    `${extra}${key}`,
    `${key} ${key}`,
    `"${key}"`,
  );
});
const headerArb = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 80, unit: 'binary' }),
  fc
    .tuple(schemeArb, spacesArb, fc.oneof(nearKeyArb, fc.string({ maxLength: 40 })))
    .map(([scheme, spaces, key]) => `${scheme}${spaces}${key}`),
);

describe('any Authorization header', () => {
  it('is answered without throwing, and authenticates only exactly a configured key', () => {
    fc.assert(
      fc.property(headerArb, (header) => {
        const outcome = authenticate(header, testKeys);
        // Spaces and tabs around a field value are not part of it (RFC 9110 §5.5), wherever the value comes from.
        const expected = expectedCaller(header.replace(/^[ \t]+|[ \t]+$/g, ''));
        if (expected === undefined) expect(outcome.kind).not.toBe('ok');
        else expect(outcome).toMatchObject({ kind: 'ok', key: { name: expected } });
      }),
      { numRuns: 5000 },
    );
  });

  describe('over HTTP', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp();
    });
    afterAll(() => app.close());

    /** What a client can put in a header: visible Latin-1, spaces and tabs (no CR, LF or NUL). */
    const wireChar = fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x09))
      .map((code) => String.fromCharCode(code));
    const wireHeaderArb = fc.oneof(
      fc.string({ unit: wireChar, maxLength: 80 }),
      fc.tuple(schemeArb, spacesArb, nearKeyArb).map(([scheme, spaces, key]) => `${scheme}${spaces}${key}`),
    );

    it('gets 200 for exactly a configured key and a 401 problem otherwise, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(wireHeaderArb, async (header) => {
          const response = await app.inject({ url: '/v1/things/1', headers: { authorization: header } });
          // HTTP strips spaces and tabs around a header value.
          const expected = expectedCaller(header.replace(/^[ \t]+|[ \t]+$/g, ''));
          if (expected === undefined) {
            expect(response.statusCode).toBe(401);
            expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="signet"/);
            expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
          } else {
            expect(response.statusCode).toBe(200);
            expect(response.json()).toEqual({ id: '1', caller: expected });
          }
        }),
        { numRuns: 400 },
      );
    });
  });
});
