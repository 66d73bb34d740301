import type { Interceptable } from 'undici';

/**
 * Pieces shared by the tests that fake Carbon Black with undici's MockAgent
 * (the client's dispatcher in those tests; see test/backends).
 */

/** What `intercept` returns, and what a reply callback is handed (undici exports neither type by name). */
export type MockInterceptor = ReturnType<Interceptable['intercept']>;
export interface MockRequest {
  path: string;
  method: string;
  headers?: Headers | Record<string, string> | undefined;
  body?: unknown;
}

/** Reply options for a JSON answer: MockAgent JSON-encodes an object body but, unlike a server, sets no Content-Type. */
export const JSON_REPLY = { headers: { 'content-type': 'application/json' } };

/** Request headers as a server sees them: names in lower case, whatever case the client wrote them in. */
export function lowerCaseHeaders(headers: MockRequest['headers']): Record<string, string> {
  const entries = headers === undefined ? [] : headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), value]));
}
