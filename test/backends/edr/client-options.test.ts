import { describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClientOptions } from '../../../src/backends/edr/client.js';
import { expectNoToken, TOKEN } from './support/secrets.js';

const base: CarbonBlackClientOptions = { baseUrl: 'https://cb.test', token: TOKEN, joinField: 'digsig_prog_name', timeoutMs: 1000 };

function creationError(options: Partial<CarbonBlackClientOptions>): unknown {
  try {
    const client = createCarbonBlackClient({ ...base, ...options });
    void client.close();
  } catch (error) {
    return error;
  }
  throw new Error('expected createCarbonBlackClient to throw');
}

describe('createCarbonBlackClient options', () => {
  it.each([
    ['not a URL', 'cb.test'],
    ['another scheme', 'ftp://cb.test'],
    ['credentials in the URL', `https://admin:${TOKEN}@cb.test`],
    ['a query string', 'https://cb.test/?x=1'],
    ['a fragment', 'https://cb.test/#x'],
  ])('refuses a base URL with %s, without echoing it', (_label, baseUrl) => {
    const error = creationError({ baseUrl });
    expect(error).toBeInstanceOf(TypeError);
    expectNoToken(error);
    expect((error as Error).message).not.toContain(baseUrl);
  });

  it.each([
    ['empty', ''],
    ['with a newline', `${TOKEN}\n`],
    ['with surrounding spaces', ` ${TOKEN} `],
    ['with a header injection', `${TOKEN}\r\nX-Evil: 1`],
    ['non-ASCII', `${TOKEN}é`],
  ])('refuses a token that is %s, without echoing it', (_label, token) => {
    const error = creationError({ token });
    expect(error).toBeInstanceOf(TypeError);
    expectNoToken(error);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses timeoutMs %s', (timeoutMs) => {
    expect(creationError({ timeoutMs })).toBeInstanceOf(TypeError);
  });

  it('accepts an http base URL with a path prefix', async () => {
    const client = createCarbonBlackClient({ ...base, baseUrl: 'http://cb.test:8080/edr/' });
    await client.close();
  });
});
