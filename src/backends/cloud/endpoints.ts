/**
 * Where each Carbon Black Cloud call goes. The base URL and the org key are
 * checked once, when the client is created; every URL below only appends a
 * fixed path, the URL-encoded job id and a numeric query string.
 */

export interface CloudEndpoints {
  /** `host:port` of the Cloud server, for error messages (never the full URL). */
  host: string;
  /** `POST {base}/api/investigate/v2/orgs/{org_key}/processes/search_jobs` */
  searchJobs: string;
  /** `GET {base}/api/investigate/v2/orgs/{org_key}/processes/search_jobs/{job_id}/results?start=<start>&rows=<rows>` */
  jobResults(jobId: string, start: number, rows: number): string;
}

/**
 * Org keys are short identifiers (`WNEXFKQ7`). Printable ASCII only, first a
 * letter or digit so that it can never be the `.` or `..` segment a URL parser
 * would resolve away; everything else is percent-encoded into its one segment.
 */
const orgKeyPattern = /^[A-Za-z0-9][\x21-\x7e]{0,63}$/;

const loopbackHosts: ReadonlySet<string> = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return loopbackHosts.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * @throws TypeError for a base URL that is not https (http only to a loopback
 * host: the API key travels in a header), carries credentials, a query or a
 * fragment, or for an org key that is not 1 to 64 printable characters
 * starting with a letter or digit. Neither value is echoed: an operator may
 * have pasted a secret into either.
 */
export function cloudEndpoints(baseUrl: string, orgKey: string): CloudEndpoints {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('Carbon Black Cloud base URL is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new TypeError('Carbon Black Cloud base URL must be https (http only to a loopback address)');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('Carbon Black Cloud base URL must not carry credentials; the API key goes in X-Auth-Token');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('Carbon Black Cloud base URL must not carry a query or fragment');
  }
  if (typeof orgKey !== 'string' || !orgKeyPattern.test(orgKey)) {
    throw new TypeError('Carbon Black Cloud org key must be 1 to 64 printable ASCII characters, starting with a letter or digit');
  }
  const searchJobs = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/investigate/v2/orgs/${encodeURIComponent(orgKey)}/processes/search_jobs`;
  return {
    host: url.host,
    searchJobs,
    jobResults: (jobId, start, rows) =>
      `${searchJobs}/${encodeURIComponent(jobId)}/results?${new URLSearchParams({ start: String(start), rows: String(rows) }).toString()}`,
  };
}
