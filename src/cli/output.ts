import type { Failure } from './signet-client.js';
import { isObject } from './signet-client.js';

/**
 * What the client writes, and where: results (JSON) on stdout, so that they
 * pipe into jq or a file; everything meant for a person (the verdict in
 * words, problems, retries, the batch summary) on stderr. Every line for a
 * person passes through `redact`, so the API key cannot reach a terminal or a
 * log even inside a message the client did not write itself.
 */

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export class Output {
  constructor(
    readonly io: CliIo,
    private readonly secret: string | undefined,
  ) {}

  /** One result on stdout: indented for a person at a terminal, one line otherwise or with `--json`. */
  json(value: unknown, oneLine: boolean): void {
    const pretty = !oneLine && this.io.stdout.isTTY === true;
    this.io.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
  }

  /** Lines already formatted (the batch's JSON Lines), in one write. */
  lines(lines: readonly string[]): void {
    if (lines.length > 0) this.io.stdout.write(`${lines.join('\n')}\n`);
  }

  /** A line for a person, on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${this.redact(`signet: ${text}`)}\n`);
  }

  redact(text: string): string {
    return this.secret ? text.replaceAll(this.secret, '[redacted]') : text;
  }
}

/** A failure on one line: status, code, whether and when to retry, then what Signet said. */
export function failureLine(failure: Failure): string {
  const retry = failure.retryable
    ? `retryable${failure.retryAfterSeconds !== undefined ? `, Retry-After ${failure.retryAfterSeconds} s` : ''}`
    : 'not retryable';
  const detail = failure.detail === failure.title ? failure.title : `${failure.title}: ${failure.detail}`;
  return oneLine(`${failure.status !== null ? `${failure.status} ` : ''}${failure.code} (${retry}): ${detail}`);
}

/** The verdict in words, for stderr; stdout has the whole answer. */
export function verdictLine(verdict: Record<string, unknown>): string {
  const hash = text(verdict.md5) ?? text(verdict.sha256) ?? '?';
  const name = text(verdict.name) ?? '?';
  const signature = isObject(verdict.signature) ? verdict.signature : {};
  const cache = isObject(verdict.cache) && typeof verdict.cache.status === 'string' ? ` [cache ${verdict.cache.status}]` : '';
  switch (verdict.verdict) {
    case 'signed': {
      const publisher = text(signature.publisher);
      const program = text(signature.programName);
      const mismatch =
        verdict.nameMatchesSignature === false
          ? `; but its signature names ${program ? `"${program}"` : 'no program'}, not "${name}": check it is not masquerading`
          : '';
      return oneLine(`signed: ${name} (${hash}) is signed${publisher ? ` by ${publisher}` : ''}${mismatch}${cache}`);
    }
    case 'unsigned': {
      // Cloud's status alone can read "SIGNED" on an unsigned verdict (present but not verified): its states say why.
      const states = statesOf(signature);
      const status = text(signature.status);
      const why = states ? ` (Carbon Black's signature states: ${states})` : status ? ` (Carbon Black says "${status}")` : '';
      return oneLine(`unsigned: ${name} (${hash}) is not validly signed${why}${cache}`);
    }
    default: {
      if (isObject(verdict.signature)) {
        // A record whose signature Carbon Black could not judge (Cloud's UNKNOWN state), not a missing record.
        const states = statesOf(signature);
        return oneLine(
          `unknown: Carbon Black does not say whether ${name} (${hash}) is signed${states ? ` (signature states: ${states})` : ''}; not the same as unsigned${cache}`,
        );
      }
      return oneLine(`unknown: Carbon Black has no record of ${hash} (${name}); not the same as unsigned, ask again later${cache}`);
    }
  }
}

/** Cloud's raw publisher states, short (without FILE_SIGNATURE_STATE_), or undefined when there are none (EDR). */
function statesOf(signature: Record<string, unknown>): string | undefined {
  if (!Array.isArray(signature.states)) return undefined;
  const states = signature.states.filter((state): state is string => typeof state === 'string' && state !== '');
  return states.length === 0 ? undefined : states.map((state) => state.replace(/^FILE_SIGNATURE_STATE_/, '')).join(', ');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function oneLine(line: string): string {
  // eslint-disable-next-line no-control-regex -- a detail or a name must not break the line or drive the terminal
  return line.replace(/[\x00-\x1F\x7F]+/g, ' ');
}
