import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../src/routes/bounded-memo.js';

describe('a bounded memo', () => {
  it('formats each value once while it is held, and formats again after the memo filled and was dropped', () => {
    const formatted: number[] = [];
    const memo = boundedMemo(2, (n) => {
      formatted.push(n);
      return `#${n}`;
    });
    expect([memo(1), memo(2), memo(1), memo(2)]).toEqual(['#1', '#2', '#1', '#2']);
    expect(formatted).toEqual([1, 2]);
    // Full: a third value drops the memo, so 1 is formatted again, with the same result.
    expect([memo(3), memo(1), memo(3)]).toEqual(['#3', '#1', '#3']);
    expect(formatted).toEqual([1, 2, 3, 1]);
  });
});
