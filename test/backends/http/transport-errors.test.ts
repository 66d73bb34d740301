import { describe, expect, it } from 'vitest';
import { classifyTransportError, errorCodes } from '../../../src/backends/http/transport-errors.js';

/** What Node's fetch throws: `TypeError: fetch failed` with the socket or TLS error as cause. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}
function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyTransportError', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  ])('maps %s to CB_TLS_UNTRUSTED', (code) => {
    const error = classifyTransportError(fetchFailed(coded(code)), 'cb.test:443');
    expect(error.code).toBe('CB_TLS_UNTRUSTED');
    expect(error.message).toContain(code);
    expect(error.message).toContain('cb.test:443');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPROTO'])(
    'maps %s to CB_UNREACHABLE',
    (code) => {
      const error = classifyTransportError(fetchFailed(coded(code)), 'cb.test:443');
      expect(error.code).toBe('CB_UNREACHABLE');
      expect(error.message).toContain(code);
      expect(error.transient).toBe(true);
    },
  );

  it.each(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('maps undici %s to CB_TIMEOUT', (code) => {
    expect(classifyTransportError(fetchFailed(coded(code)), 'h').code).toBe('CB_TIMEOUT');
  });

  it('finds a TLS code nested deep, and inside an AggregateError', () => {
    const nested = fetchFailed(new Error('outer', { cause: new AggregateError([coded('ECONNREFUSED'), coded('CERT_HAS_EXPIRED')]) }));
    expect(classifyTransportError(nested, 'h').code).toBe('CB_TLS_UNTRUSTED');
  });

  it('keeps the original error as cause', () => {
    const original = fetchFailed(coded('ECONNREFUSED'));
    expect(classifyTransportError(original, 'h').cause).toBe(original);
  });

  it('copes with no code at all, with non-errors and with a cause cycle', () => {
    expect(classifyTransportError(new TypeError('fetch failed'), 'h').message).toContain('connection failed');
    expect(classifyTransportError('a string', 'h').code).toBe('CB_UNREACHABLE');
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyTransportError(a, 'h').code).toBe('CB_UNREACHABLE');
  });

  it('never puts a free-form code in the message', () => {
    const error = classifyTransportError(fetchFailed(coded('not a code; secret=abc')), 'h');
    expect(error.message).not.toContain('secret');
  });
});

describe('errorCodes', () => {
  it('lists codes outermost first', () => {
    expect(errorCodes(Object.assign(fetchFailed(coded('ECONNRESET')), { code: 'UND_ERR_SOCKET' }))).toEqual([
      'UND_ERR_SOCKET',
      'ECONNRESET',
    ]);
  });
});
