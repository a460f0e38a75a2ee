import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../../observability/metrics.js';

/** The route as a template, so labels stay few: the OpenAPI path when the validator matched one. */
function routeOf(req: Request): string {
  const openapi = (req as Request & { openapi?: { openApiRoute?: string } }).openapi;
  if (openapi?.openApiRoute !== undefined) return openapi.openApiRoute;
  if (req.route !== undefined) return `${req.baseUrl}${String((req.route as { path: unknown }).path)}`;
  return 'unmatched';
}

/** Times every request and counts it by method, route template and status. */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => stop({ method: req.method, route: routeOf(req), status: String(res.statusCode) }));
    next();
  };
}
