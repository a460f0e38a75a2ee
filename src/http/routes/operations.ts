import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { HttpDependencies } from '../app.js';
import { sendError } from '../error-handler.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** What operators' tooling calls: readiness for orchestrators, metrics for Prometheus. */
export function operationsRoutes(deps: Pick<HttpDependencies, 'readiness' | 'metrics' | 'config'>): Router {
  const router = Router();
  const metricsToken = deps.config.metricsToken === undefined ? undefined : digest(deps.config.metricsToken);

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  router.get('/metrics', async (req, res) => {
    if (metricsToken !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (match?.[1] === undefined || !timingSafeEqual(digest(match[1]), metricsToken)) {
        sendError(res, 401, 'invalid_token', 'the metrics token is missing or wrong', { 'www-authenticate': 'Bearer realm="ciba-metrics"' });
        return;
      }
    }
    res.status(200).type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
