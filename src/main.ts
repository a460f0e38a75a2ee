import { createServer, type Server } from 'node:http';
import { buildServices } from './composition/services.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createApp } from './http/app.js';
import { answerClientErrors } from './http/client-errors.js';
import { DrainableHttp, shutDown } from './support/graceful-shutdown.js';
import { createLogger } from './support/logger.js';
import { startWorkers } from './workers/start-workers.js';

/**
 * Starts the service in its role: `api` serves HTTP, `worker` runs jobs, `all` (the default) both.
 * SIGTERM/SIGINT stop taking work (new connections are refused, no job is taken), let in-flight
 * requests and running jobs finish within SHUTDOWN_TIMEOUT_SECONDS, then close Redis and exit 0;
 * past the deadline, or on a second signal, the process exits 1 at once.
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
  const store = config.redis === undefined ? 'memory' : 'cluster' in config.redis ? 'redis-cluster' : 'redis';

  if (config.authorizationServer.credentials.length === 0) {
    logger.warn('AS_BASIC_CREDENTIALS is not set: /user/verify and /authentication/start will refuse every call');
  }
  if (config.admin.token === undefined) logger.warn('ADMIN_API_TOKEN is not set: the admin API is disabled');

  if (config.role !== 'api') {
    await startWorkers(services);
    logger.info({ role: config.role, store }, 'job worker running');
  }

  let server: Server | undefined;
  let http: DrainableHttp | undefined;
  if (config.role !== 'worker') {
    http = new DrainableHttp(createApp(services));
    const listening = createServer(http.listener);
    answerClientErrors(listening);
    server = listening;
    listening.listen(config.http.port, config.http.host, () => {
      logger.info({ port: config.http.port, publicUrl: config.http.publicUrl, role: config.role, store }, 'listening');
    });
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while shutting down; exiting now');
      process.exit(1);
    }
    stopping = true;
    const timeoutSeconds = config.shutdown.timeoutSeconds;
    logger.info({ signal, timeoutSeconds }, 'shutting down: taking no new work, finishing what is in flight');
    void shutDown(
      {
        ...(server !== undefined && http !== undefined ? { drainHttp: () => http.drain(server) } : {}),
        stopJobs: () => services.worker.close(),
        close: () => services.close(),
        describeInFlight: () => ({ httpRequestsInFlight: http?.inFlightCount ?? 0 }),
      },
      timeoutSeconds * 1000,
      logger,
    ).then(
      (result) => {
        if (result === 'clean') logger.info('stopped');
        process.exit(result === 'clean' ? 0 : 1);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
