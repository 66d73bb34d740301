/**
 * The verdict in words on stderr must not contradict the verdict: Cloud's
 * `signature.status` alone reads "SIGNED" for a signature that is present but
 * not verified (an unsigned verdict), and its UNKNOWN state is a record
 * Carbon Black could not judge, not a missing one. EDR answers keep their
 * `digsig_result` wording.
 */
import { describe, expect, it } from 'vitest';
import { verdictLine } from '../../src/cli/output.js';

const cache = { hit: false, status: 'miss' };

describe('verdictLine', () => {
  it('an EDR unsigned verdict quotes digsig_result', () => {
    const line = verdictLine({
      md5: '3d485deffe2f74d0c15f1cb23086f936',
      name: 'nc',
      verdict: 'unsigned',
      signature: { status: 'Unsigned', states: null },
      cache,
    });
    expect(line).toBe('unsigned: nc (3d485deffe2f74d0c15f1cb23086f936) is not validly signed (Carbon Black says "Unsigned") [cache miss]');
  });

  it('a Cloud unsigned verdict lists the states that decided it, not a bare "SIGNED"', () => {
    const line = verdictLine({
      md5: '75e94eafffb1b7c9b498f48cce81d2d6',
      name: 'setup-helper.exe',
      verdict: 'unsigned',
      signature: { status: 'FILE_SIGNATURE_STATE_SIGNED', states: ['FILE_SIGNATURE_STATE_SIGNED', 'FILE_SIGNATURE_STATE_TRUSTED'] },
      cache,
    });
    expect(line).toBe(
      "unsigned: setup-helper.exe (75e94eafffb1b7c9b498f48cce81d2d6) is not validly signed (Carbon Black's signature states: SIGNED, TRUSTED) [cache miss]",
    );
    expect(line).not.toContain('says "FILE_SIGNATURE_STATE_SIGNED"');
  });

  it('a Cloud record in the UNKNOWN state is not "no record"', () => {
    const line = verdictLine({
      sha256: 'd579094d59ed2496bd885cb7bad0253c277bebebe22d1dcc7c22416312be93d5',
      md5: null,
      name: 'updater.exe',
      verdict: 'unknown',
      signature: { status: 'FILE_SIGNATURE_STATE_UNKNOWN', states: ['FILE_SIGNATURE_STATE_UNKNOWN'] },
      cache,
    });
    expect(line).toBe(
      'unknown: Carbon Black does not say whether updater.exe (d579094d59ed2496bd885cb7bad0253c277bebebe22d1dcc7c22416312be93d5) is signed (signature states: UNKNOWN); not the same as unsigned [cache miss]',
    );
  });

  it('no record at all says so', () => {
    const line = verdictLine({ md5: '456c234f1bfada1805b36118282fed3e', name: 'dropper.exe', verdict: 'unknown', signature: null, cache });
    expect(line).toBe(
      'unknown: Carbon Black has no record of 456c234f1bfada1805b36118282fed3e (dropper.exe); not the same as unsigned, ask again later [cache miss]',
    );
  });

  it('control characters in a state cannot break the line', () => {
    const line = verdictLine({ md5: 'a', name: 'x', verdict: 'unsigned', signature: { status: 'S', states: ['BAD\nSTATE'] } });
    expect(line.split('\n')).toHaveLength(1);
  });
});
