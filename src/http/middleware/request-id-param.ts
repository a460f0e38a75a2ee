import type { RequestParamHandler } from 'express';

/** A route's `:request_id` goes on the response's locals, so every log line of the call names it. */
export const logRequestIdParam: RequestParamHandler = (_req, res, next, requestId: string) => {
  res.locals.requestId = requestId;
  next();
};
