import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { InputFormat } from './batch-input.js';
import { INPUT_FORMATS } from './batch-input.js';
import { MAX_CHUNK_ITEMS } from './batch-chunks.js';
import type { ExitStatus } from './exit-codes.js';
import { EXIT, EXIT_STATUS_HELP } from './exit-codes.js';
import type { CliIo } from './output.js';

/**
 * The command line, parsed by commander into one of three commands with
 * checked values. Parsing never exits the process: help and version end with
 * 0, anything wrong with 3 (the client's one error status), after commander
 * has said what was wrong on stderr.
 *
 * The environment is read here from the `env` given (not process.env), so
 * that a caller decides what the client sees; `--api-key` and
 * SIGNET_API_KEY never get a default, so help never shows a key.
 */

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;

export interface Connection {
  baseUrl: URL;
  apiKey: string | undefined;
  timeoutMs: number;
}

export type CliCommand =
  | { command: 'lookup'; connection: Connection; hash: string; name: string; json: boolean }
  | {
      command: 'batch';
      connection: Connection;
      /** A path, `-`, or undefined for standard input. */
      file: string | undefined;
      /** Undefined: detected from the first line. */
      format: InputFormat | undefined;
      chunkSize: number;
      retries: number;
      /** Undefined: shown when stderr is a terminal and the input takes more than one request. */
      progress: boolean | undefined;
    }
  | { command: 'health'; connection: Connection; json: boolean };

export type Parsed = { kind: 'run'; command: CliCommand } | { kind: 'exit'; status: ExitStatus };

interface GlobalOptions {
  url?: string;
  apiKey?: string;
  timeout?: number;
}

const HELP_AFTER = `
Environment:
  SIGNET_URL       Signet's base URL, when --url is not given (default ${DEFAULT_URL})
  SIGNET_API_KEY   the API key, when --api-key is not given; prefer it to --api-key, which
                   other users of the machine can read in the process list

${EXIT_STATUS_HELP}

Examples:
  signet lookup 82a7bf2b1f51f1988be571b8176aa545 --name git
  signet batch alerts.jsonl > verdicts.jsonl
  cut -d, -f1,2 alerts.csv | signet batch --format csv
  signet health
`;

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** A base URL the client can send to: http(s), no credentials (the key has its own option), no query or fragment. */
export function checkBaseUrl(value: string): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials; give the API key with SIGNET_API_KEY or --api-key';
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment';
  return url;
}

/** Keys are printable ASCII without spaces (Signet's own rule), and the header must hold them verbatim. */
const API_KEY = /^[\x21-\x7E]+$/;

export async function parseArguments(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  version: string,
): Promise<Parsed> {
  let parsed: CliCommand | undefined;
  const program = new Command('signet')
    .description('Asks Signet whether process binaries are code-signed according to Carbon Black.')
    .version(version, '-V, --version')
    .option('--url <url>', `Signet's base URL (env SIGNET_URL; default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key, sent as a bearer token (env SIGNET_API_KEY)')
    .addOption(
      new Option('--timeout <ms>', 'per-request timeout in milliseconds').argParser(integer(1, 3_600_000)).default(DEFAULT_TIMEOUT_MS),
    )
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  /** The options every command shares, checked; the environment fills what the command line left out. */
  const connection = (command: Command): Connection => {
    const options = command.optsWithGlobals<GlobalOptions>();
    const urlText = options.url ?? env.SIGNET_URL ?? DEFAULT_URL;
    const url = checkBaseUrl(urlText);
    const source = options.url !== undefined ? '--url' : 'SIGNET_URL';
    if (typeof url === 'string') command.error(`error: ${source} ${url}: ${JSON.stringify(urlText)}`);
    const apiKey = options.apiKey ?? (env.SIGNET_API_KEY === '' ? undefined : env.SIGNET_API_KEY);
    if (apiKey !== undefined && !API_KEY.test(apiKey)) {
      // The key itself is never echoed, not even when it is wrong.
      command.error(`error: ${options.apiKey !== undefined ? '--api-key' : 'SIGNET_API_KEY'} must be printable ASCII without spaces`);
    }
    return { baseUrl: url as URL, apiKey, timeoutMs: options.timeout ?? DEFAULT_TIMEOUT_MS };
  };

  program
    .command('lookup')
    .description('one verdict: prints the answer as JSON on stdout and a line in words on stderr')
    .argument('<hash>', "the binary's md5 (32 hex digits), or its sha256 (64) on Carbon Black Cloud")
    .requiredOption('--name <name>', 'the process name the alert saw')
    .option('--json', 'one line of JSON even on a terminal')
    .addHelpText('after', `\nExit status: 0 signed, 1 unsigned, 2 unknown, 3 error.`)
    .action((hash: string, options: { name: string; json?: boolean }, command: Command) => {
      parsed = { command: 'lookup', connection: connection(command), hash, name: options.name, json: options.json === true };
    });

  program
    .command('batch')
    .description('many verdicts: one JSON line per input line on stdout, in input order')
    .argument('[file]', 'JSON Lines ({"md5"|"sha256": ..., "name": ...} per line) or CSV (md5,name or sha256,name); - or none: stdin')
    .addOption(new Option('--format <format>', 'the input format (default: detected from the first line)').choices(INPUT_FORMATS))
    .addOption(
      new Option('--chunk-size <n>', `items per request, at most ${MAX_CHUNK_ITEMS}`)
        .argParser(integer(1, MAX_CHUNK_ITEMS))
        .default(MAX_CHUNK_ITEMS),
    )
    .addOption(
      new Option('--retries <n>', 'further requests per chunk for failures Signet calls retryable, after Retry-After')
        .argParser(integer(0, 10))
        .default(DEFAULT_RETRIES),
    )
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'never show the progress bar')
    .addHelpText(
      'after',
      `\nA malformed line gets an error line in its place (code INVALID_INPUT_LINE). Exit status: 0 when every\nline got a verdict, 3 when any line has an error (malformed, refused or failed).`,
    )
    .action(
      (
        file: string | undefined,
        options: { format?: InputFormat; chunkSize: number; retries: number; progress?: boolean },
        command: Command,
      ) => {
        parsed = {
          command: 'batch',
          connection: connection(command),
          file,
          format: options.format,
          chunkSize: options.chunkSize,
          retries: options.retries,
          progress: options.progress,
        };
      },
    );

  program
    .command('health')
    .description("Signet's liveness (/healthz) and readiness (/readyz)")
    .option('--json', 'one line of JSON even on a terminal')
    .addHelpText('after', `\nExit status: 0 ready, 3 otherwise.`)
    .action((options: { json?: boolean }, command: Command) => {
      parsed = { command: 'health', connection: connection(command), json: options.json === true };
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { kind: 'exit', status: error.exitCode === 0 ? EXIT.ok : EXIT.error };
    throw error;
  }
  return parsed === undefined ? { kind: 'exit', status: EXIT.error } : { kind: 'run', command: parsed };
}
