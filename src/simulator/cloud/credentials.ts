import { randomInt } from 'node:crypto';

/**
 * The one API key the Cloud simulator accepts, and its org. Cloud keys
 * have a 10-character API ID and a 24-character API secret key, sent as
 * `X-Auth-Token: <secret>/<id>`; org keys are 8 characters (the SDK's
 * fixtures show ones like WNEXFKQ7). Given values must have those shapes, so
 * a test never uses credentials a real tenant could not have; missing ones
 * are generated.
 */

export interface CloudCredentials {
  orgKey: string;
  apiId: string;
  apiSecret: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SHAPES = {
  orgKey: { length: 8, pattern: /^[A-Z0-9]{8}$/u },
  apiId: { length: 10, pattern: /^[A-Z0-9]{10}$/u },
  apiSecret: { length: 24, pattern: /^[A-Z0-9]{24}$/u },
} as const satisfies Record<keyof CloudCredentials, { length: number; pattern: RegExp }>;

function generate(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

/** The given credentials, checked, with the missing ones generated. */
export function resolveCredentials(given: Partial<CloudCredentials>): CloudCredentials {
  const pick = (key: keyof CloudCredentials): string => {
    const value = given[key];
    const shape = SHAPES[key];
    if (value === undefined) return generate(shape.length);
    if (typeof value !== 'string' || !shape.pattern.test(value)) {
      throw new TypeError(`cloud simulator ${key} must be ${shape.length} upper-case letters or digits`);
    }
    return value;
  };
  return { orgKey: pick('orgKey'), apiId: pick('apiId'), apiSecret: pick('apiSecret') };
}

/** The X-Auth-Token value for these credentials. */
export function authToken(credentials: CloudCredentials): string {
  return `${credentials.apiSecret}/${credentials.apiId}`;
}
