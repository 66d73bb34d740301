import { CarbonBlackError } from '../errors.js';

/**
 * Turns what a failed request threw (before any response) into a
 * CarbonBlackError. The interesting `code` may sit on the error itself (undici's
 * own errors, ECONNREFUSED), on its `cause` (a socket or TLS error wrapped by
 * a caller) or inside an AggregateError (happy-eyeballs failures), so the
 * whole chain is searched.
 */

/** Certificate-verification failures: the server answered, but we do not trust who it is. */
const untrustedCertificateCodes: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

/** undici's own timers (not ours): the server accepted the connection but stalled. */
const stalledCodes: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Only codes shaped like `ECONNREFUSED` go into messages: they are safe to log and useful. */
const safeCode = /^[A-Z][A-Z0-9_]{1,63}$/;

/** Every `code` along the cause chain (and inside AggregateErrors), outermost first. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  // Bounded: a cause cycle or a pathological chain must not hang a request.
  while (queue.length > 0 && seen.size < 32) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && safeCode.test(code)) codes.push(code);
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return codes;
}

/** `host` is the configured server's host:port, named in messages so operators know what failed. */
export function classifyTransportError(error: unknown, host: string): CarbonBlackError {
  const codes = errorCodes(error);
  const untrusted = codes.find((code) => untrustedCertificateCodes.has(code));
  if (untrusted !== undefined) {
    return new CarbonBlackError(
      'CB_TLS_UNTRUSTED',
      `Carbon Black at ${host} presented a TLS certificate that is not trusted (${untrusted}); set a CA file or fix the certificate`,
      { cause: error },
    );
  }
  const stalled = codes.find((code) => stalledCodes.has(code));
  if (stalled !== undefined) {
    return new CarbonBlackError('CB_TIMEOUT', `Carbon Black at ${host} stalled (${stalled})`, { cause: error });
  }
  const detail = codes[0] ?? 'connection failed';
  return new CarbonBlackError('CB_UNREACHABLE', `Carbon Black at ${host} is unreachable (${detail})`, { cause: error });
}
