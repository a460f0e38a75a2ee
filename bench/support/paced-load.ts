/**
 * Open-loop load at a steady rate: request i is sent at start + i / rate, whether or not earlier ones
 * were answered, over keep-alive connections. autocannon's `overallRate` is not used for this: it
 * gives each connection a quota per second that the connection sends back to back at the top of every
 * second, so "half the rate" is a saturating burst followed by silence, and its latencies are those
 * of a saturated server. Free sockets are reused most recent first, so few sit idle long enough for
 * the server's keep-alive timeout to close them under a request (which would count as an error).
 */
import http from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { summarize, type LoadResult } from './load.js';

export interface PacedSpec {
  /** Base URLs; requests go round robin over them. */
  urls: string[];
  path: string;
  rate: number;
  durationSeconds: number;
  headers: Record<string, string>;
  body: () => unknown;
}

export interface PacedResult extends LoadResult {
  /** How late the generator sent its latest request (ms): large values mean the figures are the generator's. */
  maxSendLag: number;
}

export async function runPaced(spec: PacedSpec): Promise<PacedResult> {
  const load = loadavg()[0] ?? 0;
  const agents = spec.urls.map(() => new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' }));
  const targets = spec.urls.map((url) => new URL(url));
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let maxSendLag = 0;
  const total = Math.max(1, Math.floor(spec.rate * spec.durationSeconds));
  const interval = 1000 / spec.rate;
  const outstanding: Array<Promise<void>> = [];

  const send = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const target = targets[index % targets.length]!;
      const payload = JSON.stringify(spec.body());
      const sent = performance.now();
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: spec.path,
          agent: agents[index % agents.length],
          headers: { ...spec.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.push(performance.now() - sent);
            else non2xx += 1;
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors += 1;
        resolve();
      });
      request.end(payload);
    });

  const began = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && began + next * interval <= now) {
        maxSendLag = Math.max(maxSendLag, now - (began + next * interval));
        outstanding.push(send(next));
        next += 1;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, began + next * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(outstanding);
  const elapsed = (performance.now() - began) / 1000;
  for (const agent of agents) agent.destroy();
  const { p50, p99, max } = summarize(latencies);
  return { requestsPerSecond: latencies.length / elapsed, total: latencies.length, p50, p99, max, non2xx, errors, load, maxSendLag };
}
