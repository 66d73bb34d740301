import type { Dispatcher } from 'undici';
import { drain } from './body.js';
import { CarbonBlackError } from '../errors.js';
import { parseRetryAfter } from './retry-after.js';

/** The parts of an undici `request()` answer the mapping reads. */
export type StatusResponse = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>;

/** Carbon Black's 400 `reason` is a short identifier (query_syntax_error); anything else is not echoed. */
const safeReason = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The CarbonBlackError for a non-2xx answer, after draining its body (error
 * pages are often HTML: read to free the pooled connection, never echoed).
 * The same mapping for every call; a call for which some status is an answer
 * (the binary summary's 404) handles that status before coming here.
 */
export async function statusError(response: StatusResponse, host: string, secrets: readonly string[]): Promise<CarbonBlackError> {
  const status = response.statusCode;
  const base = { upstreamStatus: status };
  const retryAfter = response.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  const withRetry = retryAfterMs === undefined ? base : { ...base, retryAfterMs };

  if (status === 400) {
    const reason = queryRejectionReason(await drain(response.body), secrets);
    return new CarbonBlackError(
      'CB_QUERY_REJECTED',
      `Carbon Black at ${host} rejected the query (400${reason === undefined ? '' : `: ${reason}`})`,
      base,
    );
  }
  await drain(response.body);
  if (status === 401 || status === 403) {
    return new CarbonBlackError('CB_TOKEN_REJECTED', `Carbon Black at ${host} rejected the API token (${status})`, base);
  }
  if (status === 429) {
    return new CarbonBlackError('CB_RATE_LIMITED', `Carbon Black at ${host} is rate limiting requests (429)`, withRetry);
  }
  if (status >= 500 && status <= 599) {
    return new CarbonBlackError('CB_SERVER_ERROR', `Carbon Black at ${host} answered ${status} (server error)`, withRetry);
  }
  return new CarbonBlackError('CB_UNEXPECTED_STATUS', `Carbon Black at ${host} answered an unexpected status (${status})`, base);
}

/** Carbon Black's short `reason`, only when it is an identifier and has nothing to do with any secret. */
function queryRejectionReason(body: string | undefined, secrets: readonly string[]): string | undefined {
  if (body === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json === 'object' && json !== null && 'reason' in json) {
      const { reason } = json;
      if (
        typeof reason === 'string' &&
        safeReason.test(reason) &&
        !secrets.some((secret) => reason.includes(secret) || secret.includes(reason))
      ) {
        return reason;
      }
    }
  } catch {
    // Not JSON: say nothing more than the status.
  }
  return undefined;
}
