import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBatchItem } from '../../src/routes/batch-items.js';
import { batchItemSchema } from '../../src/routes/schemas.js';
import type { HashKind } from '../../src/signing/signature-service.js';

const BOTH: ReadonlySet<HashKind> = new Set(['md5', 'sha256']);
const MD5_ONLY: ReadonlySet<HashKind> = new Set(['md5']);
const NOTE = 'Carbon Black EDR indexes md5';
const check = (candidate: unknown, indexes = BOTH) => checkBatchItem(candidate, indexes, NOTE);

const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
const hexOf = (min: number, max: number) => fc.array(hex, { minLength: min, maxLength: max }).map((c) => c.join(''));
// A hash with one character swapped for a near miss: the neighbours of 0-9, A-F and a-f, and what differs from them by one bit.
const nearMiss = fc.constantFrom('/', ':', '@', 'G', '`', 'g', '\u0010', '\u0019', '\u0001', '\u0041\u0301', '０', 'Ａ', 'ｆ');
const nearHex = (length: number) =>
  fc
    .tuple(hexOf(length, length), fc.nat(length - 1), nearMiss)
    .map(([hash, at, swap]) => hash.slice(0, at) + swap + hash.slice(at + swap.length));
const hashValue = (length: number) =>
  fc.oneof(
    hexOf(length, length),
    hexOf(length - 2, length + 2),
    nearHex(length),
    fc.string(),
    fc.constant('0'.repeat(30)),
    fc.integer(),
    fc.constant(null),
  );
const md5 = hashValue(32);
const sha256 = hashValue(64);
const name = fc.oneof(
  fc.string({ minLength: 0, maxLength: 270, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
  fc.constantFrom('git', '', 'a\u0000b', 'x\u0085', 'git\ud800', '\udc00', 'x'.repeat(260), 'x'.repeat(261)),
  fc.integer(),
);
const item = fc.oneof(
  fc.record({ md5, name }),
  fc.record({ sha256, name }),
  fc.record({ md5, name }, { requiredKeys: [] }),
  fc.record({ md5, sha256, name }, { requiredKeys: [] }),
  fc.record({ md5, name, extra: fc.anything() }),
  fc.anything(),
);

describe('batch items are checked one by one', () => {
  it('the fast path accepts exactly what the item schema accepts (3000 runs)', () => {
    fc.assert(
      fc.property(item, (candidate) => {
        const checked = check(candidate);
        const parsed = batchItemSchema.safeParse(candidate);
        expect('error' in checked).toBe(!parsed.success);
        if (parsed.success && !('error' in checked)) {
          const data = parsed.data;
          const expected =
            'md5' in data
              ? { hash: data.md5.toLowerCase(), kind: 'md5', name: data.name }
              : { hash: data.sha256.toLowerCase(), kind: 'sha256', name: data.name };
          expect(checked).toEqual(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    [{ md5: '000000000000000000000000000000', name: 'explorer.exe' }, 'md5'],
    [{ md5: 'a'.repeat(32), name: '' }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'x'.repeat(261) }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'tab\there' }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'git', path: 'c:\\x' }, 'path'],
    [{ name: 'git' }, 'md5'],
    [{ sha256: 'a'.repeat(63), name: 'git' }, 'sha256'],
    [{ sha256: 'a'.repeat(32), name: 'git' }, 'sha256'],
    [{ md5: 'a'.repeat(32), sha256: 'b'.repeat(64), name: 'git' }, 'sha256'],
    ['a string', 'item'],
    [null, 'item'],
    [[1, 2], 'item'],
  ])('%j is refused naming %s', (candidate, field) => {
    const checked = check(candidate);
    expect(checked).toMatchObject({ error: { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', field } });
    expect('error' in checked && checked.error.detail).toContain(`"${field}"`);
  });

  it('a valid sha256 is refused, naming the field and why, where the backend indexes md5 only', () => {
    const checked = check({ sha256: 'B'.repeat(64), name: 'git' }, MD5_ONLY);
    expect(checked).toEqual({
      md5: null,
      sha256: 'b'.repeat(64),
      name: 'git',
      error: {
        status: 400,
        code: 'INVALID_REQUEST',
        title: 'Invalid request',
        detail: `"sha256" cannot be looked up: ${NOTE}; send the binary's md5`,
        field: 'sha256',
        retryable: false,
      },
    });
    expect(check({ md5: 'A'.repeat(32), name: 'git' }, MD5_ONLY)).toEqual({ hash: 'a'.repeat(32), kind: 'md5', name: 'git' });
  });

  it('echoes a string hash and name as given, null otherwise, and lower-cases a valid hash', () => {
    expect(check({ md5: 'A'.repeat(32), name: '' })).toMatchObject({ md5: 'a'.repeat(32), name: '' });
    expect(check({ md5: 'NOPE', name: 7 })).toMatchObject({ md5: 'NOPE', name: null });
    expect(check({ sha256: 'NOPE', name: 'x' })).toMatchObject({ md5: null, sha256: 'NOPE', name: 'x' });
    expect(check({ md5: 'A'.repeat(32), name: 'Git' })).toEqual({ hash: 'a'.repeat(32), kind: 'md5', name: 'Git' });
    expect(check({ sha256: 'C'.repeat(64), name: 'Git' })).toEqual({ hash: 'c'.repeat(64), kind: 'sha256', name: 'Git' });
  });

  it('bounds an unknown field name it echoes', () => {
    const checked = check({ md5: 'a'.repeat(32), name: 'git', ['k'.repeat(500)]: 1 });
    expect('error' in checked && checked.error.field.length).toBe(64);
  });
});
