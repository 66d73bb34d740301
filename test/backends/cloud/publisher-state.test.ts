import { describe, expect, it } from 'vitest';
import { assessPublisherStates, FILE_SIGNATURE_STATES } from '../../../src/backends/cloud/publisher-state.js';
import { OS_BINARY_STATES, STATE, UNSIGNED_STATES } from './support/cloud-fixtures.js';

/**
 * The verdict rule, state by state. Every expectation is written out by hand
 * from the rule in publisher-state.ts's doc comment; none is computed.
 */

type Verdict = ReturnType<typeof assessPublisherStates>;
const signed = (decisive: string): Verdict => ({ kind: 'signed', decisive });
const unsigned = (decisive: string): Verdict => ({ kind: 'unsigned', decisive });
const unknown = (decisive: string | null = null): Verdict => ({ kind: 'unknown', decisive });

describe('the documented states', () => {
  it('lists exactly the nine states of the shared doc', () => {
    expect([...FILE_SIGNATURE_STATES].sort()).toEqual(Object.values(STATE).sort());
  });
});

describe('each state alone', () => {
  it.each<[string, Verdict]>([
    [STATE.INVALID, unsigned(STATE.INVALID)],
    [STATE.NOT_SIGNED, unsigned(STATE.NOT_SIGNED)],
    // A signature state without VERIFIED: present but not verified is not signed.
    [STATE.SIGNED, unsigned(STATE.SIGNED)],
    [STATE.CATALOG_SIGNED, unsigned(STATE.CATALOG_SIGNED)],
    // No signature state: Cloud did not say signed or unsigned.
    [STATE.VERIFIED, unknown()],
    [STATE.UNKNOWN, unknown(STATE.UNKNOWN)],
    [STATE.CHAINED, unknown()],
    [STATE.TRUSTED, unknown()],
    [STATE.OS, unknown()],
  ])('%s', (state, expected) => {
    expect(assessPublisherStates([state])).toEqual(expected);
  });

  it('no state at all is unknown, not unsigned', () => {
    expect(assessPublisherStates([])).toEqual(unknown());
  });
});

describe('the recorded fixtures', () => {
  it('an OS binary [OS, SIGNED, TRUSTED, VERIFIED] is signed, on VERIFIED', () => {
    expect(assessPublisherStates(OS_BINARY_STATES)).toEqual(signed(STATE.VERIFIED));
  });

  it('an unsigned binary [NOT_SIGNED] is unsigned', () => {
    expect(assessPublisherStates(UNSIGNED_STATES)).toEqual(unsigned(STATE.NOT_SIGNED));
  });
});

describe('every pair of states', () => {
  const { INVALID, SIGNED, VERIFIED, NOT_SIGNED, UNKNOWN, CHAINED, TRUSTED, OS, CATALOG_SIGNED } = STATE;
  it.each<[string, string, Verdict]>([
    // Rule 1: INVALID beats everything.
    [INVALID, SIGNED, unsigned(INVALID)],
    [INVALID, VERIFIED, unsigned(INVALID)],
    [INVALID, NOT_SIGNED, unsigned(INVALID)],
    [INVALID, UNKNOWN, unsigned(INVALID)],
    [INVALID, CHAINED, unsigned(INVALID)],
    [INVALID, TRUSTED, unsigned(INVALID)],
    [INVALID, OS, unsigned(INVALID)],
    [INVALID, CATALOG_SIGNED, unsigned(INVALID)],
    // Rule 2: NOT_SIGNED beats every signature and verification state.
    [NOT_SIGNED, SIGNED, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, VERIFIED, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, UNKNOWN, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, CHAINED, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, TRUSTED, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, OS, unsigned(NOT_SIGNED)],
    [NOT_SIGNED, CATALOG_SIGNED, unsigned(NOT_SIGNED)],
    // Rule 3: a signature state needs VERIFIED.
    [SIGNED, VERIFIED, signed(VERIFIED)],
    [CATALOG_SIGNED, VERIFIED, signed(VERIFIED)],
    [SIGNED, CATALOG_SIGNED, unsigned(SIGNED)],
    [SIGNED, UNKNOWN, unsigned(SIGNED)],
    [SIGNED, CHAINED, unsigned(SIGNED)],
    [SIGNED, TRUSTED, unsigned(SIGNED)],
    [SIGNED, OS, unsigned(SIGNED)],
    [CATALOG_SIGNED, UNKNOWN, unsigned(CATALOG_SIGNED)],
    [CATALOG_SIGNED, CHAINED, unsigned(CATALOG_SIGNED)],
    [CATALOG_SIGNED, TRUSTED, unsigned(CATALOG_SIGNED)],
    [CATALOG_SIGNED, OS, unsigned(CATALOG_SIGNED)],
    // Rule 4: no signature state.
    [VERIFIED, UNKNOWN, unknown(UNKNOWN)],
    [VERIFIED, CHAINED, unknown()],
    [VERIFIED, TRUSTED, unknown()],
    [VERIFIED, OS, unknown()],
    [UNKNOWN, CHAINED, unknown(UNKNOWN)],
    [UNKNOWN, TRUSTED, unknown(UNKNOWN)],
    [UNKNOWN, OS, unknown(UNKNOWN)],
    [CHAINED, TRUSTED, unknown()],
    [CHAINED, OS, unknown()],
    [TRUSTED, OS, unknown()],
  ])('%s + %s', (a, b, expected) => {
    expect(assessPublisherStates([a, b])).toEqual(expected);
    expect(assessPublisherStates([b, a])).toEqual(expected);
  });
});

describe('precedence across rows that disagree', () => {
  it('a row saying NOT_SIGNED and another saying SIGNED, VERIFIED: unsigned (conservative)', () => {
    expect(assessPublisherStates([STATE.SIGNED, STATE.VERIFIED, STATE.NOT_SIGNED])).toEqual(unsigned(STATE.NOT_SIGNED));
  });

  it('INVALID beats NOT_SIGNED and a verified signature together', () => {
    expect(assessPublisherStates([...OS_BINARY_STATES, STATE.NOT_SIGNED, STATE.INVALID])).toEqual(unsigned(STATE.INVALID));
  });

  it('both signature states without VERIFIED name SIGNED', () => {
    expect(assessPublisherStates([STATE.CATALOG_SIGNED, STATE.SIGNED])).toEqual(unsigned(STATE.SIGNED));
  });

  it('duplicates change nothing', () => {
    expect(assessPublisherStates([STATE.SIGNED, STATE.SIGNED, STATE.VERIFIED, STATE.VERIFIED])).toEqual(signed(STATE.VERIFIED));
  });
});

describe('values nobody has listed', () => {
  it.each([
    'FILE_SIGNATURE_STATE_REVOKED',
    'FILE_SIGNATURE_STATE_EXPIRED',
    'SIGNED',
    'VERIFIED',
    'file_signature_state_signed',
    'File_Signature_State_Not_Signed',
    ' FILE_SIGNATURE_STATE_INVALID',
    'FILE_SIGNATURE_STATE_NOT_SIGNED ',
    '',
  ])('%j alone is unknown (exact, upper-case match only)', (value) => {
    expect(assessPublisherStates([value])).toEqual(unknown());
  });

  it('a future value next to a verified signature leaves it signed', () => {
    expect(assessPublisherStates(['FILE_SIGNATURE_STATE_REVOKED', STATE.SIGNED, STATE.VERIFIED])).toEqual(signed(STATE.VERIFIED));
  });

  it('lower-case verification does not verify', () => {
    expect(assessPublisherStates([STATE.SIGNED, 'file_signature_state_verified'])).toEqual(unsigned(STATE.SIGNED));
  });

  it('a future value next to UNKNOWN stays unknown, naming UNKNOWN', () => {
    expect(assessPublisherStates(['FILE_SIGNATURE_STATE_PENDING', STATE.UNKNOWN])).toEqual(unknown(STATE.UNKNOWN));
  });
});
