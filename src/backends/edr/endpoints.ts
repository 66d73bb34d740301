/**
 * Where each Carbon Black call goes. The base URL is checked once, when the
 * client is created; every URL below only appends a fixed path and, for the
 * searches, a form-encoded query string (URLSearchParams, so `+` is a space,
 * as the server reads it).
 */

export interface CarbonBlackEndpoints {
  /** `host:port` of the server, for error messages (never the full URL). */
  host: string;
  /** `GET {base}/api/v1/process?q=...&rows=1&start=0&sort=` */
  processSearch(q: string): string;
  /** `GET {base}/api/v1/binary/{MD5}/summary`; the md5 must already be validated (32 hex digits). */
  binarySummary(md5: string): string;
  /** `GET {base}/api/v1/binary?q=...&rows=<rows>&start=0` */
  binarySearch(q: string, rows: number): string;
  /** `POST {base}/api/v1/binary`: the same search with its parameters in a JSON body, for a query too long for a URL. */
  binarySearchPost: string;
}

/**
 * Parses the configured base URL: http or https, optionally with a path prefix
 * (`https://cb.example/edr`), trailing slashes dropped.
 * @throws TypeError for anything else. The URL itself is never echoed: it is
 * configuration an operator may have pasted credentials into.
 */
export function carbonBlackEndpoints(baseUrl: string): CarbonBlackEndpoints {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('Carbon Black base URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError('Carbon Black base URL must be http or https');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('Carbon Black base URL must not carry credentials; the token goes in X-Auth-Token');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('Carbon Black base URL must not carry a query or fragment');
  }
  const api = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/v1`;
  // Built once: each call only appends its query string.
  const processSearch = `${api}/process?`;
  const binarySearch = `${api}/binary?`;
  return {
    host: url.host,
    processSearch: (q) => processSearch + new URLSearchParams({ q, rows: '1', start: '0', sort: '' }).toString(),
    // Records store the md5 in upper case, and so does every documented summary URL.
    binarySummary: (md5) => `${api}/binary/${md5.toUpperCase()}/summary`,
    binarySearch: (q, rows) => binarySearch + new URLSearchParams({ q, rows: String(rows), start: '0' }).toString(),
    binarySearchPost: `${api}/binary`,
  };
}
