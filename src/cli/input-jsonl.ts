import type { LineParser } from './batch-input.js';

/** One JSON Lines line: any JSON object is an item (Signet judges its fields); anything else is malformed. */
export const parseJsonLine: LineParser = (line) => {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { malformed: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { malformed: 'not a JSON object; each line must be {"md5": "...", "name": "..."} or {"sha256": "...", "name": "..."}' };
  }
  return { item: value };
};
