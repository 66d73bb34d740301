import cliProgress from 'cli-progress';
import type { Output } from './output.js';

/**
 * The batch's progress bar on stderr (cli-progress), and the notes that must
 * not tear it: while the bar is shown, a note is drawn above it instead of
 * through it. Without a bar, notes go straight to stderr.
 */

export interface Progress {
  /** Input lines answered so far. */
  update(done: number): void;
  note(text: string): void;
  stop(): void;
}

export function startProgress(output: Output, total: number, show: boolean): Progress {
  if (!show) return { update: () => undefined, note: (text) => output.note(text), stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    {
      stream: output.io.stderr,
      format: 'signet: {bar} {percentage}% | {value}/{total} lines | {duration_formatted} | ETA {eta_formatted}',
      // Drawn when asked with --progress on a stream that is not a terminal (a CI log): a line per interval.
      noTTYOutput: true,
      notTTYSchedule: 1000,
      // Its SIGINT handler would keep Ctrl-C from ending the process; with the cursor left visible there is nothing to restore.
      gracefulExit: false,
      hideCursor: null,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0);
  return {
    update: (done) => bar.update(done),
    note: (text) => {
      bars.log(`${output.redact(`signet: ${text}`)}\n`);
      // log() only buffers until the next scheduled redraw; draw now, so that a note before a long wait is seen before it.
      bars.update();
    },
    stop: () => bars.stop(),
  };
}
