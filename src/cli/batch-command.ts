import type { CliCommand } from './arguments.js';
import type { InputEntry } from './batch-input.js';
import { parseInput, readInput } from './batch-input.js';
import type { BatchSummary } from './batch-runner.js';
import { runBatch } from './batch-runner.js';
import type { ExitStatus } from './exit-codes.js';
import { EXIT, exitForBatch } from './exit-codes.js';
import type { Output } from './output.js';
import { failureLine } from './output.js';
import { startProgress } from './progress.js';
import type { SignetClient } from './signet-client.js';

/**
 * `signet batch [file]`: reads the whole input first (it is counted for the
 * progress bar, and its format is told from its first line), then writes one
 * JSON line per non-blank input line, in order, as each chunk is answered.
 */
export async function batchCommand(
  command: Extract<CliCommand, { command: 'batch' }>,
  client: SignetClient,
  output: Output,
): Promise<ExitStatus> {
  const { io } = output;
  const fromStdin = command.file === undefined || command.file === '-';
  if (fromStdin && io.stdin.isTTY === true) output.note('reading items from standard input; end with Ctrl-D');
  let input: string;
  try {
    input = await readInput(command.file, io.stdin);
  } catch (error) {
    output.note(
      `cannot read ${fromStdin ? 'standard input' : command.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
    return EXIT.error;
  }
  const { entries } = parseInput(input, command.format);
  if (entries.length === 0) {
    output.note('the input holds no items');
    return EXIT.ok;
  }

  const show = command.progress ?? (io.stderr.isTTY === true && itemCount(entries) > command.chunkSize);
  const progress = startProgress(output, entries.length, show);
  const pending: string[] = [];
  let summary: BatchSummary;
  try {
    summary = await runBatch(entries, client, {
      chunkSize: command.chunkSize,
      retries: command.retries,
      emit: (result) => pending.push(JSON.stringify(result)),
      onProgress: (done) => {
        // One write per chunk rather than one per line.
        output.lines(pending.splice(0));
        progress.update(done);
      },
      onNotice: (text) => progress.note(text),
    });
  } finally {
    progress.stop();
  }
  if (summary.stoppedBy !== undefined) output.note(`batch stopped: ${failureLine(summary.stoppedBy)}`);
  output.note(summaryLine(summary));
  return exitForBatch(summary);
}

function itemCount(entries: readonly InputEntry[]): number {
  return entries.reduce((count, entry) => count + (entry.kind === 'item' ? 1 : 0), 0);
}

function summaryLine(summary: BatchSummary): string {
  const verdicts = summary.signed + summary.unsigned + summary.unknown;
  const malformed = summary.malformed > 0 ? ` (${plural(summary.malformed, 'malformed line')})` : '';
  return (
    `${plural(summary.entries, 'line')}: ${plural(verdicts, 'verdict')} (${summary.signed} signed, ${summary.unsigned} unsigned, ` +
    `${summary.unknown} unknown), ${plural(summary.errors, 'error')}${malformed}; ${plural(summary.requests, 'request')}`
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
