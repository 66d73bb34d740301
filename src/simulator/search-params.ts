import { z } from 'zod';
import { BINARY_SORT_KEYS, type BinarySearchOptions, type BinarySortKey, type SearchOptions, type SortOrder } from './dataset.js';
import type { ProcessRowKey } from './records.js';

/**
 * Reads the search parameters (process or binary search) from a GET query
 * string or a POST JSON body. Both may carry lists (a repeated query parameter; `"q": ["..."]` in
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

export interface BinarySearchRequest extends BinarySearchOptions {
  /** The query text exactly as received ('' when absent). */
  q: string;
}

export class SearchParamError extends Error {
  override name = 'SearchParamError';
}

const SORT = /^\s*([a-z_][a-z0-9_]*)(?:\s+(asc|desc))?\s*$/iu;

type First = (name: string) => string | undefined;

function readParams(raw: unknown): First {
  const parsed = paramsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new SearchParamError('parameters must be an object of strings, numbers or lists of them');
  const params = parsed.data;
  return (name) => {
    const value = params[name];
    const item = Array.isArray(value) ? value[0] : value;
    return item === undefined || item === null ? undefined : String(item);
  };
}

/** The process search's parameters; `sortableKeys` are the row fields `sort` may name. */
export function readSearchParams(raw: unknown, sortableKeys: ReadonlySet<string>): SearchRequest {
  const first = readParams(raw);
  const q = first('q') ?? '';
  const rows = integer('rows', first('rows'), 10);
  const start = integer('start', first('start'), 0);
  const sort = readSort<ProcessRowKey>(first('sort'), sortableKeys, { key: 'last_update', descending: true });
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

/**
 * The binary search's parameters: q, rows (default 10, capped at 1000), start
 * (default 0) and sort (default `server_added_timestamp desc`). cb.* time
 * windows and facet parameters are accepted and ignored.
 */
export function readBinarySearchParams(raw: unknown): BinarySearchRequest {
  const first = readParams(raw);
  return {
    q: first('q') ?? '',
    rows: Math.min(integer('rows', first('rows'), 10), MAX_SEARCH_ROWS),
    start: integer('start', first('start'), 0),
    sort: readSort<BinarySortKey>(first('sort'), BINARY_SORT_KEYS, { key: 'server_added_timestamp', descending: true }),
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

function readSort<K extends string>(text: string | undefined, sortableKeys: ReadonlySet<string>, fallback: SortOrder<K>): SortOrder<K> {
  // `sort=` (empty, as in the seed query) means the default order.
  if (text === undefined || text.trim() === '') return fallback;
  const match = SORT.exec(text);
  const key = match?.[1];
  if (match === null || key === undefined || !sortableKeys.has(key)) {
    throw new SearchParamError(`sort must be "<field> asc|desc" over a row field, got "${text}"`);
  }
  return { key: key as K, descending: (match[2] ?? 'asc').toLowerCase() === 'desc' };
}
