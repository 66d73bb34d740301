import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { csvLineParser } from './input-csv.js';
import { parseJsonLine } from './input-jsonl.js';

/**
 * A batch input, one item per line, as JSON Lines or CSV. Every non-blank
 * line becomes exactly one entry, in order: an item to send, or a malformed
 * line that the output reports in its place. Nothing in the input can stop
 * the run: a bad line costs only its own result.
 *
 * Lines are read one at a time in both formats (a CSV field may not span
 * lines): no valid hash or process name holds a line break, and a stray quote
 * then spoils one line instead of swallowing the rest of the file.
 *
 * Items go to Signet as they were read: Signet checks each one (hash, name,
 * unknown fields) and answers a precise per-item error, which the client
 * could only restate less exactly.
 */

export const INPUT_FORMATS = ['jsonl', 'csv'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export type InputEntry =
  /** `item` is what the line says, sent as is (an object for JSON Lines, `{md5|sha256, name}` for CSV). */
  { kind: 'item'; line: number; item: unknown } | { kind: 'malformed'; line: number; detail: string };

/**
 * Far above any valid item (a 64-digit hash and a 260-character name), and low
 * enough that a chunk of 1000 such lines can still be split under Signet's
 * 1 MiB body limit (see batch-chunks.ts).
 */
export const MAX_LINE_CHARS = 16_384;

export type LineParser = (line: string) => { item: unknown } | { malformed: string } | { skip: true };

/** JSON Lines when the first non-blank line opens an object, CSV otherwise. */
export function detectFormat(input: string): InputFormat {
  const first = input
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((line) => line.trim() !== '');
  return first?.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

export function parseInput(input: string, format: InputFormat = detectFormat(input)): { format: InputFormat; entries: InputEntry[] } {
  const parseLine: LineParser = format === 'jsonl' ? parseJsonLine : csvLineParser();
  const entries: InputEntry[] = [];
  const lines = input.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const number = index + 1;
    if (line.length > MAX_LINE_CHARS) {
      entries.push({
        kind: 'malformed',
        line: number,
        detail: `line is over ${MAX_LINE_CHARS} characters; no hash and process name are that long`,
      });
      continue;
    }
    const parsed = parseLine(line);
    if ('item' in parsed) entries.push({ kind: 'item', line: number, item: parsed.item });
    else if ('malformed' in parsed) entries.push({ kind: 'malformed', line: number, detail: parsed.malformed });
  }
  return { format, entries };
}

/** The whole input, from a file or from standard input (`-` or no file). */
export async function readInput(source: string | undefined, stdin: NodeJS.ReadableStream): Promise<string> {
  if (source === undefined || source === '-') return text(stdin);
  return readFile(source, 'utf8');
}
