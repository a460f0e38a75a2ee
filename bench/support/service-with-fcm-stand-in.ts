/**
 * The service as src/main.ts starts it (same config, composition, roles), except that the real
 * firebase-admin SDK's connections go to the FCM stand-in on loopback (BENCH_FCM_PORT): the SDK has
 * no host setting, only an HTTPS agent (see test/support/fcm-stand-in.ts). Used by the decision and
 * push latency runs, `node --import tsx bench/support/service-with-fcm-stand-in.ts`.
 */
import { buildServices } from '../../src/composition/services.js';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/support/logger.js';
import { startWorkers } from '../../src/workers/start-workers.js';
import { LoopbackAgent } from '../../test/support/fcm-stand-in.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const fcmAgent = new LoopbackAgent(Number(process.env.BENCH_FCM_PORT), { maxSockets: config.fcm?.maxConnections ?? 32 });
  const services = await buildServices(config, logger, { fcmAgent });
  if (config.role !== 'api') await startWorkers(services);
  const server = config.role === 'worker' ? undefined : createApp(services).listen(config.http.port, config.http.host);
  process.on('SIGTERM', () => {
    server?.close();
    server?.closeAllConnections();
    void services.close().then(() => {
      fcmAgent.destroy();
      process.exit(0);
    });
  });
}

void main();
