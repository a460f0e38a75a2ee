import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, BackendUnavailableError } from '../domain/errors.js';

interface ValidatorError {
  status: number;
  message: string;
  errors?: Array<{ path?: string; message?: string }>;
}

const isValidatorError = (error: unknown): error is ValidatorError =>
  typeof error === 'object' && error !== null && typeof (error as ValidatorError).status === 'number' && Array.isArray((error as ValidatorError).errors);

/** body-parser marks its errors with a `type`. */
const bodyParserType = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string'
    ? (error as { type: string }).type
    : undefined;

export interface ErrorBody {
  error: string;
  error_description: string;
}

/** The one shape of every error the service answers. */
export const errorBody = (error: string, description: string): ErrorBody => ({ error, error_description: description });

/** The description of a 404 for a path (or method on it) the API does not have. */
export const noRoute = (req: Pick<Request, 'method' | 'path'>): string => `no route ${req.method} ${req.path}`;

/** The description of a 405 for a method the path does not answer. */
export const methodNotAllowed = (method: string, path: string): string => `${method} is not allowed on ${path}`;

export function sendError(res: Response, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(status).type('application/json').json(errorBody(error, description));
}

/**
 * The last resort when answering an error failed itself (a response hook threw): the same JSON written
 * straight to the socket, so not even then does Express's default HTML page (with its stack) go out.
 */
function sendErrorBypassingHooks(res: Response, status: number, error: string, description: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(errorBody(error, description));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** http-errors (body-parser, the router) mark the ones meant for the client with `expose` and a 4xx `status`. */
const clientHttpStatus = (error: unknown): number | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true ? status : undefined;
};

/** zlib's errors carry `Z_…` codes: a Content-Encoding that does not match the body. */
const isDecompressionError = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('Z_');

/** `/body/user_identifier` or `.body.user_identifier` → `body.user_identifier` */
const fieldName = (path: string | undefined): string => (path ?? '').replace(/^[./]+/, '').replace(/\//g, '.');

function describeValidation(error: ValidatorError): string {
  const details = (error.errors ?? []).slice(0, 3).map((detail) => {
    const field = fieldName(detail.path);
    return field.length > 0 ? `${field}: ${detail.message ?? 'is invalid'}` : (detail.message ?? 'is invalid');
  });
  return details.length > 0 ? details.join('; ') : error.message;
}

const validatorCodes: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
};

/**
 * Every failure leaves as JSON `{error, error_description}` with an OAuth-style code. Unexpected
 * errors are logged with their stack and answered with a bare 500: no stack, no internals.
 */
export function errorHandler(logger: Logger, isUnavailable: (error: unknown) => boolean): ErrorRequestHandler {
  const answer = answerError(logger, isUnavailable);
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    try {
      answer(error, req, res, next);
    } catch (failure) {
      logger.error({ err: failure, path: req.path }, 'answering an error failed');
      sendErrorBypassingHooks(res, 500, 'server_error', 'an unexpected error occurred');
    }
  };
}

function answerError(logger: Logger, isUnavailable: (error: unknown) => boolean): ErrorRequestHandler {
  return (error: unknown, req, res) => {
    if (error instanceof AppError) {
      sendError(res, error.status, error.code, error.description, { ...error.headers });
      return;
    }
    const parserType = bodyParserType(error);
    if (parserType === 'entity.too.large') {
      const limit = (error as { limit?: number }).limit;
      sendError(res, 413, 'request_too_large', `the request body is over ${limit ?? 'the limit of'} bytes`);
      return;
    }
    if (parserType === 'entity.parse.failed') {
      sendError(res, 400, 'invalid_request', 'the body is not valid JSON');
      return;
    }
    if (parserType === 'encoding.unsupported' || parserType === 'charset.unsupported') {
      sendError(res, 415, 'unsupported_media_type', 'the body must be UTF-8 application/json');
      return;
    }
    if (isValidatorError(error) && error.status < 500) {
      const code = validatorCodes[error.status] ?? 'invalid_request';
      const description =
        error.status === 415
          ? 'the body must be application/json'
          : error.status === 404
            ? noRoute(req)
            : error.status === 405
              ? methodNotAllowed(req.method, req.path)
              : describeValidation(error);
      sendError(res, error.status, code, description);
      return;
    }
    if (isDecompressionError(error)) {
      sendError(res, 400, 'invalid_request', 'the body could not be decoded as its Content-Encoding says');
      return;
    }
    // Other client errors of body-parser and the router (a path with broken %-escapes, an aborted body…).
    const clientStatus = clientHttpStatus(error);
    if (clientStatus !== undefined) {
      sendError(res, clientStatus, validatorCodes[clientStatus] ?? 'invalid_request', 'the request could not be read');
      return;
    }
    if (error instanceof BackendUnavailableError || isUnavailable(error)) {
      logger.warn({ err: error, path: req.path }, 'backend unavailable');
      sendError(res, 503, 'temporarily_unavailable', 'a backend service is unreachable; retry shortly', { 'retry-after': '1' });
      return;
    }
    logger.error({ err: error, path: req.path }, 'unexpected error');
    sendError(res, 500, 'server_error', 'an unexpected error occurred');
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', noRoute(req));
};
