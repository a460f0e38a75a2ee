import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../../observability/metrics.js';

/** The route as a template, so labels stay few: the OpenAPI path when the validator matched one. */
function routeOf(req: Request): string {
  const openapi = (req as Request & { openapi?: { openApiRoute?: string } }).openapi;
  if (openapi?.openApiRoute !== undefined) return openapi.openApiRoute;
  if (req.route !== undefined) {
    const paths: unknown[] = [(req.route as { path: unknown }).path].flat();
    return paths.map((path) => mounted(req.baseUrl, String(path))).join(',');
  }
  return 'unmatched';
}

/** A route's path under its router's mount point: `/magic-links` + `/` is `/magic-links`. */
const mounted = (baseUrl: string, path: string): string => (baseUrl !== '' && path === '/' ? baseUrl : `${baseUrl}${path}`);

/** Times every request and counts it by method, route template and status. */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => stop({ method: req.method, route: routeOf(req), status: String(res.statusCode) }));
    next();
  };
}
