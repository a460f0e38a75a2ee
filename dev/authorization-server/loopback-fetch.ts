import { request as httpsRequest } from 'node:https';

/**
 * oidc-provider's outgoing fetch for the development server. CIBA requires the client notification
 * endpoint to be https, and oidc-provider refuses (SSRF protection) to call loopback addresses. A
 * consumption device on a developer's machine listens on loopback with a throw-away self-signed
 * certificate, so for loopback hosts only this sends the ping with node:https, without verifying
 * the certificate; every other URL goes through oidc-provider's protected fetch unchanged.
 * Development only: a real authorization server must never do this.
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

export function loopbackTolerantFetch(input: string | URL | Request, options: RequestInit = {}): Promise<Response> {
  const target = new URL(input instanceof Request ? input.url : input);
  if (target.protocol !== 'https:' || !isLoopbackUrl(target)) return globalThis.fetch(input, options);

  const headers: Record<string, string> = {};
  new Headers(options.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const body = typeof options.body === 'string' ? options.body : undefined;
  return new Promise<Response>((resolve, reject) => {
    const outgoing = httpsRequest(
      target,
      {
        method: options.method ?? 'GET',
        headers,
        rejectUnauthorized: false,
        signal: options.signal ?? AbortSignal.timeout(5000),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const status = incoming.statusCode ?? 500;
          const text = Buffer.concat(chunks);
          // Response refuses a body for these statuses.
          const noBody = status === 204 || status === 205 || status === 304;
          resolve(new Response(noBody ? null : text, { status }));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
