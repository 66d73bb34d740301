#!/usr/bin/env node
import { runCli } from './cli.js';
import { EXIT } from './exit-codes.js';

/**
 * The `signet` command's entry point (bin/signet.js runs it, built or from
 * the sources): the process's arguments, environment and streams in, its
 * exit status out.
 */

// A reader that went away (`signet batch big.csv | head`) is not a crash: stop quietly, without a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.error);
    throw error;
  });
}

try {
  process.exitCode = await runCli(process.argv.slice(2), process.env, process);
} catch {
  // Only argument parsing can get here (runCli reports the commands' own failures); its message might hold the key.
  process.stderr.write('signet: internal error while reading the arguments\n');
  process.exitCode = EXIT.error;
}
