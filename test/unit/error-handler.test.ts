/**
 * The error handler's last resort: when answering an error fails itself (a response hook such as the
 * OpenAPI response validator throws inside res.json), the client still gets the JSON error — never
 * Express's default HTML page with a stack trace.
 */
import express, { type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { errorHandler } from '../../src/http/error-handler.js';
import { AppError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/support/logger.js';

const lines: string[] = [];
const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _encoding, done) => { lines.push(chunk.toString()); done(); } }));

async function answerOf(hook: RequestHandler, failure: unknown): Promise<{ status: number; type: string | null; body: string }> {
  const app = express();
  app.use(hook);
  app.get('/fail', () => {
    throw failure;
  });
  app.use(errorHandler(logger, () => false));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/fail`);
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
  } finally {
    server.close();
  }
}

/** Stands in for a response hook that breaks: every res.json throws. */
const brokenJson: RequestHandler = (_req, res, next) => {
  res.json = () => {
    throw new Error('response hook failed at /some/internal/path.ts:1:2');
  };
  next();
};

describe('error handler', () => {
  it('answers JSON 500 without internals when answering the error throws', async () => {
    const answer = await answerOf(brokenJson, new AppError(400, 'invalid_request', 'bad'));
    expect(answer).toEqual({ status: 500, type: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'server_error', error_description: 'an unexpected error occurred' }) });
    expect(lines.join('')).toContain('answering an error failed');
  });

  it('answers a zlib error (a body that does not inflate) with 400 invalid_request', async () => {
    const zlibError = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', status: 400, expose: true });
    const answer = await answerOf((_req, _res, next) => next(), zlibError);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'the body could not be decoded as its Content-Encoding says' });
  });

  it('keeps the 4xx status of other exposed http-errors, with a generic description', async () => {
    const uriError = Object.assign(new URIError('Failed to decode param'), { status: 400, expose: true });
    const answer = await answerOf((_req, _res, next) => next(), uriError);
    expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'the request could not be read' } });
  });

  it('still answers unexposed errors with a bare 500', async () => {
    const answer = await answerOf((_req, _res, next) => next(), Object.assign(new Error('secret detail'), { status: 400 }));
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('secret detail');
  });
});
