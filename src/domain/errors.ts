/**
 * The one error type use cases throw for an expected failure. It carries the OAuth-style `error`
 * code and the HTTP status the entry point answers with, so routes stay thin and every failure
 * reaches the client as `{error, error_description}`.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
    this.name = 'AppError';
  }

  static invalidRequest(description: string): AppError {
    return new AppError(400, 'invalid_request', description);
  }

  static notFound(description: string): AppError {
    return new AppError(404, 'not_found', description);
  }

  static conflict(code: string, description: string): AppError {
    return new AppError(409, code, description);
  }

  static gone(description: string): AppError {
    return new AppError(410, 'request_expired', description);
  }

  /** A backend the answer depends on did not answer; the caller may try again in a second. */
  static unavailable(description: string): AppError {
    return new AppError(503, 'temporarily_unavailable', description, { 'retry-after': '1' });
  }
}

/** A store or queue backend could not be reached: the request may be retried, and answers 503. */
export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}
