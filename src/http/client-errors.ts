import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './error-handler.js';

/** What Node's HTTP parser refused, as the API's JSON error instead of Node's bodiless default. */
function describe(code: string | undefined): { status: number; error: string; description: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'request_header_fields_too_large', description: 'the request headers are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'request_timeout', description: 'the request did not arrive in time' };
    default:
      return { status: 400, error: 'invalid_request', description: 'the request is not valid HTTP' };
  }
}

/**
 * Requests Node's HTTP parser cannot read (oversized headers, control characters, a broken request
 * line) never reach the app; Node would answer them with a bare status line. This answers them with
 * the same `{error, error_description}` as every other error, then closes the connection.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, error: code, description } = describe(error.code);
    const body = JSON.stringify(errorBody(code, description));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
