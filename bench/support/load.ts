/**
 * One autocannon run and its figures. Latencies are taken from autocannon's per-response event with
 * sub-millisecond resolution (its own histogram counts whole milliseconds), and are the time from a
 * request being written to its response being read, as the load generator sees it.
 */
import autocannon from 'autocannon';
import { loadavg } from 'node:os';

export interface LoadSpec {
  url: string;
  path: string;
  connections: number;
  durationSeconds: number;
  headers: Record<string, string>;
  /** A fresh JSON body for each request. */
  body: () => unknown;
}

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  /** 1-minute load average when the run started. */
  load: number;
}

export function percentile(sorted: number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function summarize(samples: number[]): { count: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return runLoads([spec]);
}

/** Several runs at once (one per service instance): rates add up, latencies are pooled. */
export async function runLoads(specs: LoadSpec[]): Promise<LoadResult> {
  const load = loadavg()[0] ?? 0;
  const pooled: number[] = [];
  const results = await Promise.all(
    specs.map(async (spec) => {
      const instanceLatencies: number[] = [];
      const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: spec.url,
            connections: spec.connections,
            duration: spec.durationSeconds,
            requests: [
              {
                method: 'POST',
                path: spec.path,
                headers: { ...spec.headers, 'content-type': 'application/json' },
                setupRequest: (request) => ({ ...request, body: JSON.stringify(spec.body()) }),
              },
            ],
          },
          (error: unknown, finished: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(finished)),
        );
        instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
          if (statusCode >= 200 && statusCode < 300) instanceLatencies.push(responseTime);
        });
      });
      pooled.push(...instanceLatencies);
      return result;
    }),
  );
  const { p50, p99, max } = summarize(pooled);
  return {
    requestsPerSecond: results.reduce((sum, result) => sum + result.requests.total / result.duration, 0),
    total: results.reduce((sum, result) => sum + result.requests.total, 0),
    p50,
    p99,
    max,
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    load,
  };
}
