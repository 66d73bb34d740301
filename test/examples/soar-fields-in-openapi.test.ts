import { describe, expect, it } from 'vitest';
import { openApiSchemas, readJson, soarLookups } from './support.js';

/**
 * The fields the SOAR files branch on must be the API's: a field renamed in the OpenAPI document (its Signature,
 * Problem and BatchError schemas) fails here, so the examples cannot silently read something Signet no longer sends.
 */
const schemas = openApiSchemas();
const signature = schemas.Signature!.properties!;
const problem = schemas.Problem!.properties!;
const verdicts = (signature.verdict as { enum: string[] }).enum;

describe.each(soarLookups().map((lookup) => [lookup.product, lookup] as const))(
  "examples/soar: %s reads the API's fields",
  (_product, lookup) => {
    it('reads verdict and retryable', () => {
      expect(lookup.fieldsRead).toContain('verdict');
      expect(lookup.fieldsRead).toContain('retryable');
    });

    it('every answer field it reads is in the Signature or Problem schema', () => {
      for (const field of lookup.fieldsRead) expect(Object.keys(signature).concat(Object.keys(problem)), field).toContain(field);
      expect(Object.keys(signature)).toContain('verdict');
      expect(Object.keys(problem)).toContain('retryable');
    });

    it('branches on exactly the verdicts the API defines', () => {
      expect([...lookup.verdictBranches].sort()).toEqual([...verdicts].sort());
    });
  },
);

describe('examples/soar: the Tines batch reads the batch schemas', () => {
  it("reads results' verdict and error.retryable / retryAfterSeconds, which BatchVerdict and BatchError define", () => {
    const text = JSON.stringify(readJson('soar', 'tines-story.json'));
    const itemFields = new Set([...text.matchAll(/each_result\.result\.([A-Za-z0-9]+)/g)].map((match) => match[1]!));
    const errorFields = new Set([...text.matchAll(/each_result\.result\.error\.([A-Za-z0-9]+)/g)].map((match) => match[1]!));
    expect(itemFields).toContain('verdict');
    expect(errorFields).toContain('retryable');
    expect(errorFields).toContain('retryAfterSeconds');

    const verdictItem = Object.keys(schemas.BatchVerdict!.properties!);
    const errorItem = Object.keys(schemas.BatchError!.properties!);
    const error = Object.keys((schemas.BatchError!.properties!.error as { properties: Record<string, unknown> }).properties);
    for (const field of itemFields) expect(verdictItem.concat(errorItem), field).toContain(field);
    for (const field of errorFields) expect(error, field).toContain(field);
    expect(text).toContain('/v1/signatures/batch');
  });
});
