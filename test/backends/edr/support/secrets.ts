import { inspect } from 'node:util';
import { expect } from 'vitest';
import { CarbonBlackError } from '../../../../src/backends/errors.js';

/** A token shaped like a real one, distinctive enough that any leak is unmistakable. */
export const TOKEN = 'f00dfacec0ffee5ec2e7t0ken0123456789abcdef';

/** Awaits a rejection and checks it is a CarbonBlackError that does not carry the token anywhere visible. */
export async function rejection(promise: Promise<unknown>): Promise<CarbonBlackError> {
  const error: unknown = await promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(CarbonBlackError);
  expectNoToken(error);
  return error as CarbonBlackError;
}

export function expectNoToken(error: unknown): void {
  const err = error as Error;
  expect(String(err)).not.toContain(TOKEN);
  expect(err.message).not.toContain(TOKEN);
  expect(JSON.stringify(err)).not.toContain(TOKEN);
  expect(err.stack ?? '').not.toContain(TOKEN);
  // What a logger would print, causes included.
  expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(TOKEN);
}
