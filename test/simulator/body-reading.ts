/**
 * Reads a fetch response's body chunk by chunk until it ends or the
 * connection breaks, for the faults that cut a body short (truncated): how
 * many bytes arrived, and the error that stopped the reading (undefined when
 * the body ended normally).
 */
export async function readUntilCut(response: Response): Promise<{ received: number; failure: unknown }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let received = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return { received, failure: undefined };
      received += chunk.value.length;
    }
  } catch (error) {
    return { received, failure: error };
  }
}
