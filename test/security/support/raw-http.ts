import net from 'node:net';

/**
 * HTTP/1.1 over a bare TCP socket, for requests no HTTP client will send:
 * malformed request lines, conflicting framing headers, bad chunks, bytes
 * that are not UTF-8. The answer is read until the server closes the socket,
 * the expected number of responses is complete, or a bound passes.
 */

export interface RawResponse {
  status: number;
  statusLine: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawExchange {
  /** Responses parsed from the bytes received, in order; the last may be partial (see `complete`). */
  responses: RawResponse[];
  /** How many of `responses` were received whole. */
  complete: number;
  /** Everything received, for failure messages. */
  received: Buffer;
  /** True when the bound passed before the expected responses were complete (the server was still waiting for bytes). */
  cutOff: boolean;
}

export interface RawRequestOptions {
  /** How many responses to wait for (pipelined requests); default 1. */
  expect?: number;
  /** The first request is HEAD: its response has headers only, whatever Content-Length says. */
  head?: boolean;
  /** Hard bound for the whole exchange, ms; default 1500. */
  timeoutMs?: number;
}

export function rawRequest(port: number, data: Buffer, options: RawRequestOptions = {}): Promise<RawExchange> {
  const expected = options.expect ?? 1;
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (cutOff: boolean, closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks);
      resolve({ ...parseResponses(received, options.head === true, closedByServer), received, cutOff });
    };
    const timer = setTimeout(() => finish(true, false), options.timeoutMs ?? 1500);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const parsed = parseResponses(Buffer.concat(chunks), options.head === true);
      if (parsed.complete >= expected) finish(false, false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(false, true));
    socket.write(data);
  });
}

/**
 * Splits the bytes into responses (Content-Length, chunked, or read-to-close
 * bodies); a read-to-close body is whole only once the server has closed.
 */
export function parseResponses(data: Buffer, firstIsHead: boolean, closed = false): { responses: RawResponse[]; complete: number } {
  const responses: RawResponse[] = [];
  let complete = 0;
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd === -1) break;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const match = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
    if (match === null) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(match[1]);
    let bodyStart = headEnd + 4;
    if (status >= 100 && status < 200) {
      // Informational (100 Continue): no body, and the real answer follows.
      at = bodyStart;
      continue;
    }
    let body: Buffer;
    let finished: boolean;
    const noBody = (responses.length === 0 && firstIsHead) || status === 204 || status === 304;
    if (noBody) {
      body = Buffer.alloc(0);
      finished = true;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = data.subarray(bodyStart, bodyStart + length);
      finished = body.length === length;
      bodyStart += length;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      finished = false;
      let p = bodyStart;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', p, 'latin1');
        if (lineEnd === -1) break;
        const size = parseInt(data.subarray(p, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) break;
        if (size === 0) {
          const trailerEnd = data.indexOf('\r\n\r\n', lineEnd, 'latin1');
          finished = trailerEnd !== -1 || data.length >= lineEnd + 4;
          p = trailerEnd === -1 ? data.length : trailerEnd + 4;
          break;
        }
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      bodyStart = p;
    } else {
      // Read to close: whatever follows is the body.
      body = data.subarray(bodyStart);
      finished = closed;
      bodyStart = data.length;
    }
    responses.push({ status, statusLine, headers, body });
    if (!finished) break;
    complete += 1;
    at = bodyStart;
  }
  return { responses, complete };
}
