/**
 * `format` behind a memo of at most `maxEntries` results, dropped wholesale
 * when full. For the answers' timestamps: cached answers repeat the same few
 * values over and over, so a Map lookup replaces formatting a Date, and a
 * clear now and then costs less than keeping an order for eviction.
 */
export function boundedMemo<T>(maxEntries: number, format: (value: number) => T): (value: number) => T {
  const memo = new Map<number, T>();
  return (value) => {
    let result = memo.get(value);
    if (result === undefined) {
      if (memo.size >= maxEntries) memo.clear();
      result = format(value);
      memo.set(value, result);
    }
    return result;
  };
}
