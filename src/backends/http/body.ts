/** Reading response bodies, always to the end or cancelled, so a pooled connection is never left hanging. */

/** Enough for any error page Carbon Black or a proxy sends; beyond it the connection is dropped, not drained. */
export const errorBodyLimit = 64 * 1024;
/**
 * A rows=1 process search answer is a few KiB even with facets, and a binary
 * search of 100 records a few hundred KiB; far more means we are not talking to Carbon Black.
 */
export const successBodyLimit = 8 * 1024 * 1024;

/**
 * The body as UTF-8 text, or undefined (after cancelling the stream) once it
 * exceeds `limit` bytes. Throws what the stream throws (abort, truncation).
 */
export async function readText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | undefined> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Cancelling drops the connection instead of returning it to the pool; fine for an abnormal answer.
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Reads an error body up to `errorBodyLimit`; never throws (the status is the answer). */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<string | undefined> {
  try {
    return await readText(body, errorBodyLimit);
  } catch {
    return undefined;
  }
}
