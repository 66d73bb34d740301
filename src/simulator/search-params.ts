import { z } from 'zod';
import type { SearchOptions, SortOrder } from './dataset.js';
import type { ProcessRowKey } from './records.js';

/**
 * Reads the process-search parameters from a GET query string or a POST JSON
 * body. Both may carry lists (a repeated query parameter; `"q": ["..."]` in
 * JSON, as some integrations send); a list counts by its first element.
 * Parameters the simulator does not use are accepted and ignored, as a real
 * server does (cb.urlver, facet, facet.field, cb.group, ...).
 */

const MAX_SEARCH_ROWS = 1000;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const paramValue = z.union([scalar, z.array(scalar)]);
const paramsSchema = z.record(z.string(), paramValue);

export interface SearchRequest extends SearchOptions {
  /** The query text exactly as received ('' when absent). */
  q: string;
}

export class SearchParamError extends Error {
  override name = 'SearchParamError';
}

const SORT = /^\s*([a-z_]+)(?:\s+(asc|desc))?\s*$/iu;

export function readSearchParams(raw: unknown, sortableKeys: ReadonlySet<string>): SearchRequest {
  const parsed = paramsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new SearchParamError('parameters must be an object of strings, numbers or lists of them');
  const params = parsed.data;
  const first = (name: string): string | undefined => {
    const value = params[name];
    const item = Array.isArray(value) ? value[0] : value;
    return item === undefined || item === null ? undefined : String(item);
  };

  const q = first('q') ?? '';
  const rows = integer('rows', first('rows'), 10);
  const start = integer('start', first('start'), 0);
  const sort = readSort(first('sort'), sortableKeys);
  const minLastUpdateMs = timestamp('cb.min_last_update', first('cb.min_last_update'));
  const maxLastUpdateMs = timestamp('cb.max_last_update', first('cb.max_last_update'));
  return {
    q,
    // The server never returns more than maxSearchResultRows rows per page.
    rows: Math.min(rows, MAX_SEARCH_ROWS),
    start,
    sort,
    ...(minLastUpdateMs === undefined ? {} : { minLastUpdateMs }),
    ...(maxLastUpdateMs === undefined ? {} : { maxLastUpdateMs }),
  };
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^\d{1,9}$/u.test(text.trim())) throw new SearchParamError(`${name} must be a non-negative integer`);
  return Number(text.trim());
}

function timestamp(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new SearchParamError(`${name} must be an ISO timestamp such as 2024-01-01T00:00:00Z`);
  return ms;
}

function readSort(text: string | undefined, sortableKeys: ReadonlySet<string>): SortOrder {
  // `sort=` (empty, as in the seed query) means the default order.
  if (text === undefined || text.trim() === '') return { key: 'last_update', descending: true };
  const match = SORT.exec(text);
  const key = match?.[1];
  if (match === null || key === undefined || !sortableKeys.has(key)) {
    throw new SearchParamError(`sort must be "<field> asc|desc" over a row field, got "${text}"`);
  }
  return { key: key as ProcessRowKey, descending: (match[2] ?? 'asc').toLowerCase() === 'desc' };
}
