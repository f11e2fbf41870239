// A JSON error body for the requests Node's HTTP server refuses before any route sees them (it sends none).
import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ClientErrorSource {
  on(event: 'clientError', listener: (err: NodeJS.ErrnoException, socket: Duplex) => void): unknown;
  on(event: 'checkExpectation', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown;
}

export function answerClientErrorsInJson(server: ClientErrorSource): void {
  server.on('checkExpectation', (req, res) => {
    const body = JSON.stringify({
      error: {
        code: 'EXPECTATION_FAILED',
        message: `Expect: ${JSON.stringify(req.headers.expect ?? '')} is not supported (only 100-continue is)`,
      },
    });
    res.writeHead(417, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    res.end(body);
  });
  server.on('clientError', (err, socket) => {
    // As Node's own handler does: write only while no response to this connection has started, since
    // anything else would corrupt it, and never to a peer that is already gone.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.write(renderClientError(err.code), () => socket.destroy());
  });
}

/** The whole raw response, status line to body, for a parser error code. */
export function renderClientError(code: string | undefined): string {
  const [status, errorCode, message] = describeClientError(code);
  const body = JSON.stringify({ error: { code: errorCode, message } });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

function describeClientError(code: string | undefined): [status: number, code: string, message: string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'HEADERS_TOO_LARGE', `the request line and headers are larger than ${maxHeaderSize} bytes`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'CHUNK_EXTENSIONS_TOO_LARGE', 'the chunk extensions of the request body are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'];
    default:
      return [
        400,
        'BAD_REQUEST',
        code === undefined ? 'the request is not valid HTTP' : `the request is not valid HTTP (${code})`,
      ];
  }
}
