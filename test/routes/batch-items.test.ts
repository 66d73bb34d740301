import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBatchItem } from '../../src/routes/batch-items.js';
import { batchItemSchema } from '../../src/routes/schemas.js';

const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
const md5 = fc.oneof(
  fc.array(hex, { minLength: 32, maxLength: 32 }).map((c) => c.join('')),
  fc.array(hex, { minLength: 30, maxLength: 34 }).map((c) => c.join('')),
  fc.string(),
  fc.constant('000000000000000000000000000000'),
  fc.integer(),
  fc.constant(null),
);
const name = fc.oneof(
  fc.string({ minLength: 0, maxLength: 270, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
  fc.constantFrom('git', '', 'a\u0000b', 'x\u0085', 'git\ud800', '\udc00', 'x'.repeat(260), 'x'.repeat(261)),
  fc.integer(),
);
const item = fc.oneof(
  fc.record({ md5, name }),
  fc.record({ md5, name }, { requiredKeys: [] }),
  fc.record({ md5, name, extra: fc.anything() }),
  fc.anything(),
);

describe('batch items are checked one by one', () => {
  it('the fast path accepts exactly what the item schema accepts (2000 runs)', () => {
    fc.assert(
      fc.property(item, (candidate) => {
        const checked = checkBatchItem(candidate);
        const parsed = batchItemSchema.safeParse(candidate);
        expect('error' in checked).toBe(!parsed.success);
        if (parsed.success && !('error' in checked)) {
          expect(checked).toEqual({ md5: parsed.data.md5.toLowerCase(), name: parsed.data.name });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [{ md5: '000000000000000000000000000000', name: 'explorer.exe' }, 'md5'],
    [{ md5: 'a'.repeat(32), name: '' }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'x'.repeat(261) }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'tab\there' }, 'name'],
    [{ md5: 'a'.repeat(32), name: 'git', path: 'c:\\x' }, 'path'],
    [{ name: 'git' }, 'md5'],
    ['a string', 'item'],
    [null, 'item'],
    [[1, 2], 'item'],
  ])('%j is refused naming %s', (candidate, field) => {
    const checked = checkBatchItem(candidate);
    expect(checked).toMatchObject({ error: { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', field } });
    expect('error' in checked && checked.error.detail).toContain(`"${field}"`);
  });

  it('echoes a string md5 and name as given, null otherwise, and lower-cases a valid md5', () => {
    expect(checkBatchItem({ md5: 'A'.repeat(32), name: '' })).toMatchObject({ md5: 'a'.repeat(32), name: '' });
    expect(checkBatchItem({ md5: 'NOPE', name: 7 })).toMatchObject({ md5: 'NOPE', name: null });
    expect(checkBatchItem({ md5: 'A'.repeat(32), name: 'Git' })).toEqual({ md5: 'a'.repeat(32), name: 'Git' });
  });

  it('bounds an unknown field name it echoes', () => {
    const checked = checkBatchItem({ md5: 'a'.repeat(32), name: 'git', ['k'.repeat(500)]: 1 });
    expect('error' in checked && checked.error.field.length).toBe(64);
  });
});
