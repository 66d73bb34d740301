import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyTransportError, errorCodes } from '../../../src/backends/http/transport-errors.js';

/** An error wrapping the socket or TLS error as its cause, as fetch and other callers wrap them. */
function wrapped(cause: unknown): TypeError {
  return new TypeError('request failed', { cause });
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
    const error = classifyTransportError(wrapped(coded(code)), 'cb.test:443');
    expect(error.code).toBe('CB_TLS_UNTRUSTED');
    expect(error.message).toContain(code);
    expect(error.message).toContain('cb.test:443');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPROTO'])(
    'maps %s to CB_UNREACHABLE',
    (code) => {
      const error = classifyTransportError(wrapped(coded(code)), 'cb.test:443');
      expect(error.code).toBe('CB_UNREACHABLE');
      expect(error.message).toContain(code);
      expect(error.transient).toBe(true);
    },
  );

  it.each(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('maps undici %s to CB_TIMEOUT', (code) => {
    expect(classifyTransportError(wrapped(coded(code)), 'h').code).toBe('CB_TIMEOUT');
  });

  it("classifies undici's own errors, which carry their code themselves", () => {
    expect(classifyTransportError(new errors.HeadersTimeoutError(), 'h').code).toBe('CB_TIMEOUT');
    expect(classifyTransportError(new errors.BodyTimeoutError(), 'h').code).toBe('CB_TIMEOUT');
    const reset = classifyTransportError(new errors.SocketError('other side closed'), 'cb.test:443');
    expect(reset.code).toBe('CB_UNREACHABLE');
    expect(reset.message).toBe('Carbon Black at cb.test:443 is unreachable (UND_ERR_SOCKET)');
    expect(classifyTransportError(coded('ECONNREFUSED'), 'h').message).toContain('(ECONNREFUSED)');
  });

  it('finds a TLS code nested deep, and inside an AggregateError', () => {
    const nested = wrapped(new Error('outer', { cause: new AggregateError([coded('ECONNREFUSED'), coded('CERT_HAS_EXPIRED')]) }));
    expect(classifyTransportError(nested, 'h').code).toBe('CB_TLS_UNTRUSTED');
  });

  it('keeps the original error as cause', () => {
    const original = wrapped(coded('ECONNREFUSED'));
    expect(classifyTransportError(original, 'h').cause).toBe(original);
  });

  it('copes with no code at all, with non-errors and with a cause cycle', () => {
    expect(classifyTransportError(new TypeError('request failed'), 'h').message).toContain('connection failed');
    expect(classifyTransportError('a string', 'h').code).toBe('CB_UNREACHABLE');
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyTransportError(a, 'h').code).toBe('CB_UNREACHABLE');
  });

  it('never puts a free-form code in the message', () => {
    const error = classifyTransportError(wrapped(coded('not a code; secret=abc')), 'h');
    expect(error.message).not.toContain('secret');
  });
});

describe('errorCodes', () => {
  it('lists codes outermost first', () => {
    expect(errorCodes(Object.assign(wrapped(coded('ECONNRESET')), { code: 'UND_ERR_SOCKET' }))).toEqual(['UND_ERR_SOCKET', 'ECONNRESET']);
  });
});
