/**
 * A minimal SecureAuth System API for benchmarks: system token, scope-grant read, accept and reject,
 * each answered at once, and the arrival time (`performance.now()` of this process) of every accept
 * and reject. It checks nothing — test/support/secureauth-stub.ts is the validating stand-in the tests
 * use; here its schema checks would only add CPU load to the machine being measured.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SecureAuthStandIn {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** login id → performance.now() when its accept (or reject) arrived; the first one counts. */
  outcomes: Map<string, { kind: 'accept' | 'reject'; at: number }>;
  /** How many accept/reject calls arrived in all (more than `outcomes.size` means duplicates). */
  outcomeCalls(): number;
  close(): Promise<void>;
}

const TENANT = 'bench';
const WORKSPACE = 'ciba';

export async function startSecureAuthStandIn(): Promise<SecureAuthStandIn> {
  const outcomes = new Map<string, { kind: 'accept' | 'reject'; at: number }>();
  let calls = 0;
  const app = express();
  app.post(`/${TENANT}/system/oauth2/token`, (_req, res) => {
    res.json({ access_token: `bench-token-${Date.now()}`, token_type: 'bearer', expires_in: 3600, scope: 'manage_scope_grants' });
  });
  app.get(`/api/system/${TENANT}/scope-grants/:login`, (req, res) => {
    res.json({
      id: req.params.login,
      client_id: 'bench-pos',
      client_info: { client_name: 'Corner Shop POS', logo_uri: 'https://shop.example/logo.png' },
      requested_scopes: [
        { name: 'openid', display_name: 'Sign you in', description: '' },
        { name: 'profile', display_name: 'Your profile', description: 'Name and picture' },
      ],
    });
  });
  for (const kind of ['accept', 'reject'] as const) {
    app.post(`/api/system/${TENANT}/scope-grants/:login/${kind}`, (req, res) => {
      const at = performance.now();
      calls += 1;
      const login = req.params.login;
      if (!outcomes.has(login)) outcomes.set(login, { kind, at });
      res.json({ redirect_to: `https://secureauth.example/${TENANT}/${WORKSPACE}/oauth2/authorize?login_id=${login}` });
    });
  }
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    issuerUrl: `http://127.0.0.1:${port}/${TENANT}/${WORKSPACE}`,
    clientId: 'bench-service',
    clientSecret: 'bench-secret',
    outcomes,
    outcomeCalls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
