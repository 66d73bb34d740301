import { readFileSync } from 'node:fs';
import { parseArguments } from './arguments.js';
import { batchCommand } from './batch-command.js';
import type { ExitStatus } from './exit-codes.js';
import { EXIT } from './exit-codes.js';
import { healthCommand } from './health-command.js';
import { lookupCommand } from './lookup-command.js';
import type { CliIo } from './output.js';
import { Output } from './output.js';
import { SignetClient } from './signet-client.js';

/**
 * The client as a function of its arguments, environment and streams: parses,
 * runs one command and returns the exit status. main.ts is the only part that
 * touches `process`.
 */
export async function runCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<ExitStatus> {
  const version = packageVersion();
  const parsed = await parseArguments(argv, env, io, version);
  if (parsed.kind === 'exit') return parsed.status;
  const { command } = parsed;
  const output = new Output(io, command.connection.apiKey);
  const client = new SignetClient({ ...command.connection, userAgent: `signet-cli/${version}` });
  try {
    switch (command.command) {
      case 'lookup':
        return await lookupCommand(command, client, output);
      case 'batch':
        return await batchCommand(command, client, output);
      case 'health':
        return await healthCommand(command, client, output);
    }
  } catch (error) {
    // A bug, not an answer: one line (through the redaction), and the status scripts read as "no verdict".
    output.note(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  }
}

/** package.json sits two levels up from both src/cli/ and dist/cli/, in a checkout and in an installed package alike. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}
