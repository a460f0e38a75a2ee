import type { Server } from 'node:http';
import { buildServices } from './composition/services.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createApp } from './http/app.js';
import { createLogger } from './support/logger.js';
import { jobHandlers } from './workers/job-handlers.js';

/**
 * Starts the service in its role: `api` serves HTTP, `worker` runs jobs, `all` (the default) both.
 * SIGTERM/SIGINT stop taking work, let in-flight requests and jobs finish, then close Redis.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const services = await buildServices(config, logger);

  if (config.authorizationServer.credentials.length === 0) {
    logger.warn('AS_BASIC_CREDENTIALS is not set: /user/verify and /authentication/start will refuse every call');
  }
  if (config.admin.token === undefined) logger.warn('ADMIN_API_TOKEN is not set: the admin API is disabled');

  if (config.role !== 'api') await services.worker.start(jobHandlers(services));

  let server: Server | undefined;
  if (config.role !== 'worker') {
    const app = createApp(services);
    server = app.listen(config.http.port, config.http.host, () => {
      logger.info({ port: config.http.port, publicUrl: config.http.publicUrl, role: config.role, store: config.redis ? 'redis' : 'memory' }, 'listening');
    });
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    const closeServer = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeIdleConnections();
    void closeServer
      .then(() => services.close())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
