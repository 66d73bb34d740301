import { describe, expect, it } from 'vitest';
import { processSearchResponseSchema } from '../../../src/backends/edr/search-response.js';

describe('processSearchResponseSchema', () => {
  it('accepts the documented full envelope and keeps unknown keys', () => {
    const body = {
      terms: ['process_md5:82a7bf2b1f51f1988be571b8176aa545'],
      results: [{ process_md5: '82a7bf2b1f51f1988be571b8176aa545', process_name: 'git', comms_ip: -1062698981 }],
      elapsed: 0.147,
      total_results: 34884,
      highlights: [],
      facets: {},
      tagged_pids: {},
      start: 0,
      filtered: {},
      comprehensive_search: true,
      all_segments: true,
      incomplete_results: false,
    };
    const parsed = processSearchResponseSchema.parse(body);
    expect(parsed).toEqual(body);
  });

  it('accepts the older envelope without comprehensive_search, all_segments, incomplete_results', () => {
    expect(processSearchResponseSchema.safeParse({ results: [], total_results: 0, terms: [], elapsed: 0.009 }).success).toBe(true);
  });

  it('does not care about the types of keys it does not read', () => {
    expect(
      processSearchResponseSchema.safeParse({ results: [{ process_pid: 'weird' }], total_results: 1, terms: 'x', elapsed: 'slow' }).success,
    ).toBe(true);
  });

  it.each([
    ['no results', { total_results: 0 }],
    ['no total_results', { results: [] }],
    ['results as an object', { results: {}, total_results: 0 }],
    ['a null row', { results: [null], total_results: 1 }],
    ['total_results as a string', { results: [], total_results: '0' }],
    ['incomplete_results as a string', { results: [], total_results: 0, incomplete_results: 'false' }],
  ])('rejects %s', (_label, body) => {
    expect(processSearchResponseSchema.safeParse(body).success).toBe(false);
  });
});
