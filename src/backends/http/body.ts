import type { Dispatcher } from 'undici';

/** Reading response bodies, always to the end or destroyed, so a pooled connection is never left hanging. */

/** Enough for any error page Carbon Black or a proxy sends; beyond it the connection is dropped, not drained. */
export const errorBodyLimit = 64 * 1024;
/**
 * A rows=1 process search answer is a few KiB even with facets, and a binary
 * search of 100 records a few hundred KiB; far more means we are not talking to Carbon Black.
 */
export const successBodyLimit = 8 * 1024 * 1024;

/** What undici's `request()` hands back as a body: a Node stream of Buffers. */
type ResponseBody = Dispatcher.ResponseData['body'];

/**
 * The body as UTF-8 text, or undefined (after destroying the stream) once it
 * exceeds `limit` bytes. Throws what the stream throws (abort, truncation).
 */
export async function readText(body: ResponseBody, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // A Readable without an encoding yields Buffers; undici types its chunks as any.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      // Destroying drops the connection instead of returning it to the pool; fine for an abnormal answer.
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  // One chunk is the common case (an answer of a few KiB): no copy.
  return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
}

/** Reads an error body up to `errorBodyLimit`; never throws (the status is the answer). */
export async function drain(body: ResponseBody): Promise<string | undefined> {
  try {
    return await readText(body, errorBodyLimit);
  } catch {
    return undefined;
  }
}
