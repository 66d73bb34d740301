import { z } from 'zod';

/**
 * The process-search envelope (`GET /api/v1/process`), as much of it as a
 * verdict depends on. Loose objects throughout: server versions add and drop
 * keys (older ones lack `comprehensive_search`, `all_segments`,
 * `incomplete_results`), and an unknown key must never turn an answer into a
 * failure. Only the keys the client reads are declared; every other key
 * (`terms`, `elapsed`, `facets`, ...) passes through unchecked.
 */

/**
 * One process row. Rows carry no `digsig_*` field; the client only reads
 * `process_md5`, to check the row is about the binary it asked for.
 */
export const processRowSchema = z.looseObject({
  process_md5: z.string().optional(),
});

export const processSearchResponseSchema = z.looseObject({
  results: z.array(processRowSchema),
  total_results: z.number().int().nonnegative(),
  /** True when some index cores did not answer: an empty answer then proves nothing. */
  incomplete_results: z.boolean().optional(),
});

export type ProcessRow = z.output<typeof processRowSchema>;
export type ProcessSearchResponse = z.output<typeof processSearchResponseSchema>;
