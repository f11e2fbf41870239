/**
 * Sends bytes that fetch would refuse to send (bad request lines, NUL in headers, conflicting lengths) over a
 * plain TCP connection and reads back whatever the server writes before it closes.
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed without answering. */
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Everything received, for messages. */
  readonly raw: string;
}

/**
 * Writes `request` to `baseUrl`'s host and port and collects the answer until the server closes the
 * connection (or resets it: a server that stops reading a huge request may do that after answering).
 */
export function sendRaw(baseUrl: string, request: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close within ${timeoutMs} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`,
        ),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks).toString('utf8')));
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset or a broken pipe after the answer arrived is how a server ends a request it will not read.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.write(request);
  });
}

function parseRawResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', raw };
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body: decodeBody(raw.slice(end + 4), headers), raw };
}

function decodeBody(rest: string, headers: Readonly<Record<string, string>>): string {
  if (headers['transfer-encoding'] !== 'chunked') return rest;
  let body = '';
  let cursor = 0;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n', cursor);
    const size = Number.parseInt(rest.slice(cursor, lineEnd), 16);
    if (lineEnd < 0 || !(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    cursor = lineEnd + 2 + size + 2;
  }
}
