import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/**
 * HTTP draining: wraps the app's request listener so that, once draining starts, every response
 * closes its connection. Keep-alive clients (load balancers, SecureAuth) then open their next
 * connection to another instance instead of sending it to one that is going away.
 */
export class DrainableHttp {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();

  constructor(private readonly app: RequestListener) {}

  /** The listener to create the HTTP server with. */
  readonly listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    this.inFlight.add(res);
    res.once('close', () => this.inFlight.delete(res));
    if (this.draining) res.setHeader('connection', 'close');
    this.app(req, res);
  };

  /** Requests received and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stops accepting connections (new ones are refused from now on), closes idle keep-alive
   * connections, lets the requests in flight finish, and resolves once the last connection closed.
   */
  drain(server: Server): Promise<void> {
    this.draining = true;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    return closed;
  }
}

export interface ShutdownSteps {
  /** Stops accepting HTTP connections and waits for the requests in flight (absent when no HTTP is served). */
  drainHttp?: () => Promise<void>;
  /** Stops taking jobs and waits for the running ones. */
  stopJobs: () => Promise<void>;
  /** Closes queues and Redis connections; runs after both of the above, which still need them. */
  close: () => Promise<void>;
  /** What is still in flight, for the log line when the deadline passes. */
  describeInFlight?: () => Record<string, unknown>;
}

/**
 * Stops the process's work in order — no new work, then the work in flight, then the connections —
 * within `timeoutMs`. 'forced' means the deadline passed first: the caller exits anyway, and jobs
 * still running are picked up by another worker once their locks expire (JOB_LOCK_SECONDS).
 */
export async function shutDown(steps: ShutdownSteps, timeoutMs: number, logger: Logger): Promise<'clean' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), timeoutMs);
  });
  const work = (async (): Promise<'clean'> => {
    await Promise.all([steps.drainHttp?.(), steps.stopJobs()]);
    await steps.close();
    return 'clean';
  })();
  // A failure after the deadline won is of no interest any more (the process is exiting).
  work.catch(() => undefined);
  try {
    const result = await Promise.race([work, deadline]);
    if (result === 'forced') {
      logger.error({ timeoutMs, ...steps.describeInFlight?.() }, 'shutdown deadline passed with work in flight; exiting anyway');
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}
