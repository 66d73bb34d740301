import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessPublisherStates, FILE_SIGNATURE_STATES } from '../../../src/backends/cloud/publisher-state.js';
import { STATE } from './support/cloud-fixtures.js';

/**
 * Safety properties of the verdict rule, over all 512 subsets of the nine
 * documented states (exhaustive, no sampling), then with arbitrary other
 * strings mixed in (fast-check, fixed seed).
 */

function* subsets(): Generator<string[]> {
  for (let mask = 0; mask < 1 << FILE_SIGNATURE_STATES.length; mask++) {
    yield FILE_SIGNATURE_STATES.filter((_state, bit) => (mask & (1 << bit)) !== 0);
  }
}

const all = [...subsets()];

const hasSignature = (states: readonly string[]) => states.includes(STATE.SIGNED) || states.includes(STATE.CATALOG_SIGNED);

describe('over every subset of the documented states', () => {
  it('covers 512 subsets', () => {
    expect(all).toHaveLength(512);
    expect(new Set(all.map((subset) => subset.join(','))).size).toBe(512);
  });

  it('never says signed without VERIFIED and a signature state', () => {
    for (const states of all) {
      if (assessPublisherStates(states).kind === 'signed') {
        expect(states).toContain(STATE.VERIFIED);
        expect(hasSignature(states)).toBe(true);
      }
    }
  });

  it('never says signed with INVALID or NOT_SIGNED', () => {
    for (const states of all) {
      if (states.includes(STATE.INVALID) || states.includes(STATE.NOT_SIGNED)) {
        expect(assessPublisherStates(states).kind).toBe('unsigned');
      }
    }
  });

  it('says signed for every verified signature without INVALID or NOT_SIGNED', () => {
    let count = 0;
    for (const states of all) {
      const clean = !states.includes(STATE.INVALID) && !states.includes(STATE.NOT_SIGNED);
      if (clean && hasSignature(states) && states.includes(STATE.VERIFIED)) {
        count++;
        expect(assessPublisherStates(states)).toEqual({ kind: 'signed', decisive: STATE.VERIFIED });
      }
    }
    // VERIFIED in, INVALID and NOT_SIGNED out, SIGNED / CATALOG_SIGNED / both (3), UNKNOWN, CHAINED, TRUSTED, OS free (2^4).
    expect(count).toBe(48);
  });

  it('is unknown exactly when no state says signed or unsigned', () => {
    for (const states of all) {
      const says = states.includes(STATE.INVALID) || states.includes(STATE.NOT_SIGNED) || hasSignature(states);
      expect(assessPublisherStates(states).kind === 'unknown').toBe(!says);
    }
  });

  it('names a decisive state that is in the input, or null only when unknown without UNKNOWN', () => {
    for (const states of all) {
      const { kind, decisive } = assessPublisherStates(states);
      if (decisive === null) {
        expect(kind).toBe('unknown');
        expect(states).not.toContain(STATE.UNKNOWN);
      } else {
        expect(states).toContain(decisive);
      }
    }
  });

  it('does not depend on order or repetition', () => {
    for (const states of all) {
      const expected = assessPublisherStates(states);
      expect(assessPublisherStates([...states].reverse())).toEqual(expected);
      expect(assessPublisherStates([...states, ...states])).toEqual(expected);
    }
  });
});

describe('with values nobody has listed mixed in', () => {
  const documented = new Set<string>(FILE_SIGNATURE_STATES);
  const stranger = fc.string({ maxLength: 40 }).filter((value) => !documented.has(value));
  const strangers = fc.array(
    fc.oneof(
      stranger,
      fc.constantFrom(...FILE_SIGNATURE_STATES).map((state) => state.toLowerCase()),
    ),
    {
      maxLength: 5,
    },
  );
  const subset = fc.subarray([...FILE_SIGNATURE_STATES]);

  it('unlisted values never change the verdict', () => {
    fc.assert(
      fc.property(subset, strangers, fc.nat(), (states, extra, seed) => {
        const mixed = [...states, ...extra];
        // A deterministic shuffle, so position does not matter either.
        mixed.sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7));
        expect(assessPublisherStates(mixed)).toEqual(assessPublisherStates(states));
      }),
      { seed: 20240311, numRuns: 500 },
    );
  });

  it('unlisted values alone are unknown with no decisive state', () => {
    fc.assert(
      fc.property(strangers, (extra) => {
        expect(assessPublisherStates(extra)).toEqual({ kind: 'unknown', decisive: null });
      }),
      { seed: 20240311, numRuns: 300 },
    );
  });
});
