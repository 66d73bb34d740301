import { HttpProblem } from '../errors.js';

/**
 * The query parser keeps a malformed escape (`%zz`, a cut `a%2`, Latin-1
 * `caf%E9`) as literal text, so without this check such a name would be
 * searched as typed and its "unsigned" cached: a verdict about a name the
 * caller never meant. Returns the first query parameter whose name or value is
 * not valid percent-encoded UTF-8.
 */
export function malformedQueryParameter(url: string): string | undefined {
  const start = url.indexOf('?');
  // The common case, a query without escapes, costs one scan.
  if (start === -1 || url.indexOf('%', start) === -1) return undefined;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const rawKey = equals === -1 ? pair : pair.slice(0, equals);
    const key = strictDecode(rawKey);
    if (key === undefined) return rawKey;
    if (equals !== -1 && strictDecode(pair.slice(equals + 1)) === undefined) return key;
  }
  return undefined;
}

function strictDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

export function malformedQueryProblem(field: string): HttpProblem {
  return new HttpProblem({
    status: 400,
    code: 'INVALID_REQUEST',
    title: 'Invalid request',
    detail: `query parameter "${field}" is not validly percent-encoded UTF-8`,
    errors: [{ location: 'query', field, message: 'is not validly percent-encoded UTF-8' }],
  });
}
