import { z } from 'zod';
import { parseQuery, QuerySyntaxError, type QueryNode } from './query.js';
import { SORTABLE_FIELDS } from './rows.js';
import { DEFAULT_SORT, MAX_AVAILABLE, type SortKey } from './search.js';

/**
 * The two requests' inputs, validated strictly: the JSON body that creates
 * a search job and the query string that reads its results. Every problem
 * becomes a RequestError with the Cloud-style error code it answers with.
 */

export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly errorCode: 'MALFORMED_JSON' | 'INVALID_QUERY' | 'INVALID_PARAMETER' | 'UNSUPPORTED_MEDIA_TYPE',
    message: string,
    /** The body field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The largest `rows` Cloud accepts, and what a results read's rows are capped at. */
export const MAX_ROWS = MAX_AVAILABLE;

// Field names as Cloud spells them; an unknown but well-formed name is allowed and simply never present in rows.
const FIELD_NAME = /^(?:\*|[a-z][a-z0-9_]{0,99})$/u;
// The SDK's window form: a minus, a number, a unit (years, weeks, days, hours, minutes, seconds).
const WINDOW = /^-(\d{1,6})([ywdhms])$/u;
const WINDOW_UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

const createJobSchema = z
  .object({
    query: z.string({ error: 'query is required and must be a string' }),
    fields: z.array(z.string().regex(FIELD_NAME, 'not a field name')).min(1).max(500).optional(),
    rows: z.number().int().min(0).max(MAX_ROWS).optional(),
    start: z.number().int().min(0).optional(),
    sort: z
      .array(
        z
          .object({
            field: z.string().refine((field) => SORTABLE_FIELDS.has(field), 'not a field the simulator can sort on'),
            order: z
              .string()
              .regex(/^(?:asc|desc)$/iu, 'must be ASC or DESC')
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10)
      .optional(),
    time_range: z
      .object({
        start: z.iso.datetime({ offset: true }).optional(),
        end: z.iso.datetime({ offset: true }).optional(),
        window: z.string().regex(WINDOW, 'must look like -2w (y, w, d, h, m or s)').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface CreateJobRequest {
  /** The query text, as sent. */
  text: string;
  query: QueryNode;
  fields: readonly string[] | undefined;
  rows: number;
  start: number;
  sort: readonly SortKey[];
  fromMs?: number;
  toMs?: number;
}

function firstIssue(error: z.ZodError): RequestError {
  const issue = error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
  // Unknown keys are reported on the object that has them, with their names in `keys`.
  const field = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => (path === '' ? key : `${path}.${key}`)).join(', ') : path;
  const what = issue.code === 'unrecognized_keys' ? 'not a field of a process search job' : issue.message;
  return new RequestError('MALFORMED_JSON', `Malformed JSON input: ${field === '' ? 'body' : field}: ${what}`, field || undefined);
}

/** Reads a job-creation body (already a string); `nowMs` resolves a time_range window. */
export function readCreateJob(contentType: string | undefined, body: unknown, nowMs: number): CreateJobRequest {
  if (contentType === undefined || !/^application\/json\s*(?:;|$)/iu.test(contentType)) {
    throw new RequestError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, not ${contentType ?? 'absent'}`);
  }
  if (typeof body !== 'string' || body.trim() === '') throw new RequestError('MALFORMED_JSON', 'Malformed JSON input: the body is empty');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new RequestError('MALFORMED_JSON', `Malformed JSON input: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new RequestError('MALFORMED_JSON', 'Malformed JSON input: the body must be a JSON object');
  }
  const parsed = createJobSchema.safeParse(json);
  if (!parsed.success) throw firstIssue(parsed.error);
  const data = parsed.data;

  let query: QueryNode;
  try {
    query = parseQuery(data.query);
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw new RequestError('INVALID_QUERY', `Invalid query: ${error.message}`, 'query');
    throw error;
  }

  const request: CreateJobRequest = {
    text: data.query,
    query,
    fields: data.fields,
    rows: data.rows ?? 10,
    start: data.start ?? 0,
    sort: data.sort?.map((key) => ({ field: key.field, descending: (key.order ?? 'asc').toLowerCase() === 'desc' })) ?? DEFAULT_SORT,
  };
  const range = data.time_range;
  if (range !== undefined) {
    const window = range.window === undefined ? null : WINDOW.exec(range.window);
    if (window !== null) {
      // A window wins over start and end, as the SDK documents.
      request.fromMs = nowMs - Number(window[1]) * (WINDOW_UNIT_MS[window[2] as string] as number);
      request.toMs = nowMs;
    } else {
      if (range.start !== undefined) request.fromMs = Date.parse(range.start);
      if (range.end !== undefined) request.toMs = Date.parse(range.end);
      if (request.fromMs !== undefined && request.toMs !== undefined && request.fromMs > request.toMs) {
        throw new RequestError('MALFORMED_JSON', 'Malformed JSON input: time_range: start is after end', 'time_range');
      }
    }
  }
  return request;
}

export interface ResultsPage {
  start: number;
  rows: number;
}

function integerParameter(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  // A repeated parameter arrives as a list: take none of them rather than guess.
  if (typeof raw !== 'string' || !/^\d{1,9}$/u.test(raw)) {
    throw new RequestError('INVALID_PARAMETER', `${name} must be a non-negative integer, not ${JSON.stringify(raw)}`, name);
  }
  return Number(raw);
}

/** start (default 0) and rows (default 10, capped at MAX_ROWS) of a results read. */
export function readResultsPage(query: unknown): ResultsPage {
  const params = (query ?? {}) as Record<string, unknown>;
  return {
    start: integerParameter(params['start'], 'start', 0),
    rows: Math.min(integerParameter(params['rows'], 'rows', 10), MAX_ROWS),
  };
}
