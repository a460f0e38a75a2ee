import { cert, deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { Agent } from 'node:https';
import type { FcmConfig } from '../../config/config.js';

export interface FirebaseMessagingConnection {
  messaging: Messaging;
  close(): Promise<void>;
}

let appCount = 0;

/**
 * A firebase-admin app of its own (so several services can live in one process, as in tests) whose
 * HTTPS calls — the OAuth token exchange for the service account and the FCM HTTP v1 sends — all go
 * through one keep-alive agent.
 *
 * `sendEach` uses the HTTP/1.1 transport: firebase-admin's HTTP/2 transport opens a new session (TCP
 * and TLS handshake) for every `sendEach` call, while a user's batch is one to three messages, so
 * reusing kept-alive connections across prompts is the faster choice here. It is also the transport
 * that honours `httpAgent`, through which the tests send the SDK's real requests to a local FCM
 * stand-in (see test/support/fcm-stand-in.ts).
 *
 * The credential is given the file path, not its parsed content: only then does firebase-admin
 * hand the agent on to the token exchange.
 */
export function connectFirebaseMessaging(config: FcmConfig, agent?: Agent): FirebaseMessagingConnection {
  const httpAgent = agent ?? new Agent({ keepAlive: true, maxSockets: config.maxConnections });
  appCount += 1;
  const app = initializeApp(
    { credential: cert(config.serviceAccountFile, httpAgent), httpAgent, projectId: config.projectId },
    `ciba-fcm-${appCount}`,
  );
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  return {
    messaging,
    close: async () => {
      await deleteApp(app);
      if (agent === undefined) httpAgent.destroy();
    },
  };
}
