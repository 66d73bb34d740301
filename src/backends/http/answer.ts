import type { z } from 'zod';
import { CarbonBlackError } from '../errors.js';

/** A 2xx answer whose body has been read and parsed as JSON, handed to the call that asked for it. */
export interface Answer {
  status: number;
  /** The parsed JSON body. */
  json: unknown;
  /** A CB_MALFORMED_RESPONSE naming the server and status: `Carbon Black at {host} answered {status} {what}`. */
  malformed(what: string): CarbonBlackError;
}

/**
 * The body checked against `schema`, or CB_MALFORMED_RESPONSE naming the first
 * bad path and the kind of problem, never the value found there (it may be
 * anything, including an echoed token). `description` says what was expected:
 * "a process search result", "a binary record".
 */
export function parseAnswer<S extends z.ZodType>(answer: Answer, schema: S, description: string): z.output<S> {
  const parsed = schema.safeParse(answer.json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.map(String).join('.');
  // Custom issues come from this module's own schemas, so their messages are ours; zod's may quote the input.
  const problem = issue === undefined ? 'invalid' : issue.code === 'custom' ? issue.message : issue.code;
  throw answer.malformed(`with a body that is not ${description} (${where}: ${problem})`);
}

export function malformedAnswer(host: string, status: number, what: string): CarbonBlackError {
  return new CarbonBlackError('CB_MALFORMED_RESPONSE', `Carbon Black at ${host} answered ${status} ${what}`, { upstreamStatus: status });
}
