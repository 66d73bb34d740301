import { describe, expect, it } from 'vitest';
import { soarLookups } from './support.js';

/**
 * Each SOAR file, read the way its product reads it: the single lookup is GET {base}/v1/signatures/{hash}?name={name,
 * URL-encoded}, with Authorization: Bearer and a reference to where the product keeps the key, never the key itself.
 */
describe.each(soarLookups().map((lookup) => [lookup.product, lookup] as const))('examples/soar: %s', (_product, lookup) => {
  it('GETs /v1/signatures/ + the hash placeholder + ?name= and a URL-encoded name', () => {
    expect(lookup.method).toBe('GET');
    expect(lookup.hashPlaceholder).not.toBe('');
    expect(lookup.namePlaceholder).not.toBe('');
    expect(lookup.url).toContain(`/v1/signatures/${lookup.hashPlaceholder}?name=${lookup.namePlaceholder}`);
    expect(lookup.url).toMatch(/^(https:\/\/|<<RESOURCE\.|\$\{inputs\.)/);
    expect(lookup.nameIsUrlEncoded).toBe(true);
  });

  it('sends Authorization: Bearer with a credential reference, and no literal key anywhere', () => {
    expect(lookup.credentialReference).not.toBe('');
    expect(lookup.credentialSource).not.toBe('');
    expect(lookup.authorization).toBe(`Bearer ${lookup.credentialReference}`);
    // Every Authorization header or token field in the file holds a reference ( <<CREDENTIAL.x>>, ${inputs.x},
    // <PLACEHOLDER> ) after Bearer, never a token.
    const bearers = [...lookup.text.matchAll(/(?:Authorization|auth_token)\\?"?\s*:\s*\\?"?Bearer ([^"',\s\\]+)/g)].map(
      (match) => match[1]!,
    );
    expect(bearers.length).toBeGreaterThan(0);
    for (const value of bearers) expect(value).toMatch(/^(<<CREDENTIAL\.[a-z_]+>>|\$\{inputs\.[A-Za-z]+\}|<[A-Z_]+>)$/);
  });
});

describe('examples/soar: Cortex XSOAR', () => {
  it("takes the key from a context reference (an XSOAR list by default), never from the playbook's text", () => {
    const xsoar = soarLookups().find((lookup) => lookup.product === 'Cortex XSOAR')!;
    expect(xsoar.credentialSource).toMatch(/^\$\{lists\.[A-Za-z]+\}$/);
  });
});
