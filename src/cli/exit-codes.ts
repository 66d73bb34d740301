/**
 * The client's exit statuses, one table for every command so that a script
 * can branch on `$?` without parsing output. A lookup's status is its
 * verdict; 3 always means "no answer to act on" (an error, a failed item, bad
 * arguments), never a verdict, so that a failure can never be read as
 * "unsigned".
 */

export const EXIT = {
  ok: 0,
  signed: 0,
  unsigned: 1,
  unknown: 2,
  error: 3,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export type Verdict = 'signed' | 'unsigned' | 'unknown';

export function isVerdict(value: unknown): value is Verdict {
  return value === 'signed' || value === 'unsigned' || value === 'unknown';
}

export function exitForVerdict(verdict: Verdict): ExitStatus {
  return EXIT[verdict];
}

/** `batch`: 0 only when every input line got a verdict. */
export function exitForBatch(summary: { errors: number }): ExitStatus {
  return summary.errors === 0 ? EXIT.ok : EXIT.error;
}

/** `health`: 0 only when the instance is live and ready to take lookups. */
export function exitForHealth(ready: boolean): ExitStatus {
  return ready ? EXIT.ok : EXIT.error;
}

/** The table `--help` and the README show; kept here beside the values it describes. */
export const EXIT_STATUS_HELP = `Exit status:
  lookup  0 signed, 1 unsigned, 2 unknown (Carbon Black has no record: not the same as unsigned),
          3 error (any answer other than 200, the service unreachable or too slow, bad arguments)
  batch   0 every item got a verdict (whatever it is); 3 any item has an error, the input had
          malformed lines, or the arguments were bad
  health  0 live and ready; 3 otherwise`;
