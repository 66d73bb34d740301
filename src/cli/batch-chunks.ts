/**
 * Splits the items to send into batch requests Signet accepts: at most
 * `maxItems` items (Signet's limit is 1000) and a body under Signet's 1 MiB
 * limit, whichever is reached first. Items are never reordered, so each
 * chunk is a contiguous run of the input.
 */

export const MAX_CHUNK_ITEMS = 1000;

/** Signet's body limit is 1 MiB (1,048,576 bytes); the rest is headroom. */
export const MAX_CHUNK_BYTES = 1_000_000;

/** `{"items":[` and `]}`. */
const ENVELOPE_BYTES = Buffer.byteLength('{"items":[]}');

export interface PendingItem {
  /** Position of the item's line among the input's entries. */
  index: number;
  item: unknown;
}

export function chunkItems(
  items: readonly PendingItem[],
  maxItems: number = MAX_CHUNK_ITEMS,
  maxBytes: number = MAX_CHUNK_BYTES,
): PendingItem[][] {
  const chunks: PendingItem[][] = [];
  let current: PendingItem[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const pending of items) {
    const size = Buffer.byteLength(JSON.stringify(pending.item));
    // The comma before every item but the first counts too.
    if (current.length > 0 && (current.length >= maxItems || bytes + 1 + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += (current.length > 0 ? 1 : 0) + size;
    current.push(pending);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
