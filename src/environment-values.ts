import { z } from 'zod';

/*
 * The kinds of value an environment variable holds, shared by every part of
 * the environment schema (config.ts, auth/environment.ts), so each kind is
 * read, and refused, the same way everywhere.
 */

/**
 * A whole number in [min, max], from the text of an environment variable.
 * Spelled out rather than z.coerce.number(), whose "expected number, received
 * NaN" for `10s` named neither the value nor the form; the unit comes from the
 * variable's name (config.ts's describeIssue).
 */
export function integerSetting(min: number, max: number) {
  const form = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, form)
    .transform(Number)
    .pipe(z.number().int().min(min, form).max(max, form));
}

/** `true` or `false`, in any case: exactly what the README promises, nothing else taken as a boolean. */
export function booleanSetting() {
  return z.stringbool({ truthy: ['true'], falsy: ['false'], case: 'insensitive', error: 'must be true or false' });
}
