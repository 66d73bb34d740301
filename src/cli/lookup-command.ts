import type { CliCommand } from './arguments.js';
import type { ExitStatus } from './exit-codes.js';
import { EXIT, exitForVerdict, isVerdict } from './exit-codes.js';
import type { Output } from './output.js';
import { failureLine, verdictLine } from './output.js';
import type { SignetClient } from './signet-client.js';

/**
 * `signet lookup <hash> --name <name>`: one verdict. The exit status is the
 * verdict (0, 1, 2); anything without one is 3 with the problem on one line,
 * so a script never reads a failure as "unsigned". No retries: the line says
 * whether the caller may retry, and when.
 */
export async function lookupCommand(
  command: Extract<CliCommand, { command: 'lookup' }>,
  client: SignetClient,
  output: Output,
): Promise<ExitStatus> {
  const outcome = await client.lookup(command.hash, command.name);
  if (!outcome.ok) {
    output.note(`lookup failed: ${failureLine(outcome.failure)}`);
    return EXIT.error;
  }
  const { verdict } = outcome;
  if (!isVerdict(verdict.verdict)) {
    output.note(`lookup failed: 200 UNEXPECTED_RESPONSE (not retryable): the answer has no verdict`);
    return EXIT.error;
  }
  output.json(verdict, command.json);
  output.note(verdictLine(verdict));
  return exitForVerdict(verdict.verdict);
}
