import { CsvError, parse } from 'csv-parse/sync';
import type { LineParser } from './batch-input.js';

/**
 * CSV lines of two fields, `md5,name` or `sha256,name`, quoted as RFC 4180
 * allows (`"a, b"`, `"say ""hi"""`), with an optional header line naming
 * the columns (`md5,name`, `sha256,name`, in either order). Without a header
 * the hash's kind is read from its length: 64 characters is a sha256,
 * anything else is sent as an md5 (Signet then says what is wrong with it).
 */

type HashColumn = 'md5' | 'sha256';
interface Columns {
  hash: HashColumn | undefined;
  hashIndex: number;
  nameIndex: number;
}

const HEADER_WORDS = new Set(['md5', 'sha256', 'name']);

export function csvLineParser(): LineParser {
  let columns: Columns | undefined;
  let firstLine = true;
  return (line) => {
    const fields = parseFields(line);
    if (typeof fields === 'string') return { malformed: `not valid CSV: ${fields}` };
    if (firstLine) {
      firstLine = false;
      columns = headerColumns(fields);
      if (columns !== undefined) return { skip: true };
    }
    if (fields.length !== 2) {
      return { malformed: `expected 2 fields (md5,name or sha256,name), found ${fields.length}` };
    }
    const hash = fields[columns?.hashIndex ?? 0]!;
    const name = fields[columns?.nameIndex ?? 1]!;
    const kind = columns?.hash ?? (hash.length === 64 ? 'sha256' : 'md5');
    return { item: kind === 'md5' ? { md5: hash, name } : { sha256: hash, name } };
  };
}

/** The line's fields, or what is wrong with its quoting. */
function parseFields(line: string): string[] | string {
  try {
    const [record] = parse(line, { relax_column_count: true, trim: true }) as string[][];
    return record ?? [];
  } catch (error) {
    // csv-parse's messages end with "at line 1" and similar, which would mislead about the line number.
    if (error instanceof CsvError) return error.message.split(':')[0]!;
    throw error;
  }
}

function headerColumns(fields: string[]): Columns | undefined {
  const words = fields.map((field) => field.toLowerCase());
  if (words.length !== 2 || !words.every((word) => HEADER_WORDS.has(word))) return undefined;
  const nameIndex = words.indexOf('name');
  const hashIndex = 1 - nameIndex;
  const hash = words[hashIndex];
  if (nameIndex < 0 || (hash !== 'md5' && hash !== 'sha256')) return undefined;
  return { hash, hashIndex, nameIndex };
}
