import { Router, type RequestHandler } from 'express';
import type { HttpDependencies } from '../app.js';
import { bearerAuth } from '../middleware/bearer-auth.js';

/** What operators' tooling calls: readiness for orchestrators, metrics for Prometheus. */
export function operationsRoutes(deps: Pick<HttpDependencies, 'readiness' | 'metrics' | 'config'>): Router {
  const router = Router();
  // /metrics is open unless METRICS_TOKEN is set; without one, keep it off the public network.
  const metricsAuth: RequestHandler[] =
    deps.config.metricsToken === undefined
      ? []
      : [bearerAuth(deps.config.metricsToken, 'ciba-metrics', 'the metrics token is missing or wrong')];

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  router.get('/metrics', ...metricsAuth, async (_req, res) => {
    res.status(200).type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
