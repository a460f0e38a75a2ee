/**
 * Start → push sent, and decision → outcome sent. Service processes run in the role `all` (HTTP and
 * jobs) behind one public URL, as behind a load balancer, with push through the real firebase-admin
 * SDK to the FCM stand-in on loopback (bench/support/service-with-fcm-stand-in.ts); with two instances
 * the calls alternate between them and either worker may do the jobs.
 *
 * Per configuration: N start calls (one per user, each phone with its own push token) are sent open
 * loop at a fixed rate; push latency is start call sent → the prompt for that request arriving at the
 * FCM stand-in (prepare-request reads the System API stand-in, fixes the view, queues deliver-prompt,
 * which sends). Once every phone lists its request, the decisions are sent open loop at the same
 * rate; outcome latency is the decision's 202 → SecureAuth's stand-in receiving the accept
 * (record-decision queues complete-request; a worker takes it and calls the System API).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DeviceClient, RequestView } from '../dev/device-client.js';
import { sleep } from '../dev/support/eventually.js';
import { PROMPT_MESSAGE_TYPE } from '../src/adapters/fcm/fcm-messages.js';
import { partitionOf, requestIdFor } from '../src/domain/identifiers.js';
import { startFcmStandIn } from '../test/support/fcm-stand-in.js';
import { summarize } from './support/load.js';
import { BASIC_AUTHORIZATION, startService, type ServiceProcess } from './support/processes.js';
import type { SecureAuthStandIn } from './support/secureauth-stand-in.js';
import { seedUsers, type SeededUser } from './support/seed.js';

export interface FlowOptions {
  redisUrl: string;
  keyPrefix: string;
  secureAuth: SecureAuthStandIn;
  requests: number;
  /** Decisions per second (open loop). */
  rate: number;
  instances: number[];
  log: (message: string) => void;
}

export interface FlowRow {
  instances: number;
  requests: number;
  rate: number;
  /** Start call sent → 200 received. */
  startCall: { p50: number; p99: number; max: number };
  /** Start call sent → the prompt received by the FCM stand-in. */
  push: { p50: number; p99: number; max: number };
  pushesReceived: number;
  /** Decision call sent → 202 received. */
  decisionCall: { p50: number; p99: number; max: number };
  /** 202 received → accept received by the SecureAuth stand-in. */
  outcome: { p50: number; p99: number; max: number };
  outcomesReceived: number;
  duplicateOutcomes: number;
  load: number;
}

/** What devices sign as `htu`: all instances are reached under one public URL. */
const PUBLIC_URL = 'https://ciba.bank.example';

async function deviceCall(device: DeviceClient, instanceUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${instanceUrl}${path}`, {
    method,
    headers: {
      authorization: `DPoP ${device.deviceToken}`,
      dpop: await device.proof(method, path, { htu: `${PUBLIC_URL}${path}` }),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function inParallel<T>(items: T[], lanes: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}

export async function runFlowLatency(options: FlowOptions): Promise<FlowRow[]> {
  const { log } = options;
  const rows: FlowRow[] = [];
  let users: SeededUser[] | undefined;
  // First prompt per request id, as `performance.timeOrigin + performance.now()` of this process.
  const prompts = new Map<string, number>();
  const fcm = await startFcmStandIn({
    record: false,
    onMessage: (message) => {
      const data = message.message.data as Record<string, unknown> | undefined;
      const requestId = data?.request_id;
      if (data?.type === PROMPT_MESSAGE_TYPE && typeof requestId === 'string' && !prompts.has(requestId)) prompts.set(requestId, message.receivedAt);
    },
  });
  const now = (): number => performance.timeOrigin + performance.now();
  const queueRedis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('ciba', { connection: queueRedis, prefix: `${options.keyPrefix}{jobs}` });
  try {
    for (const instances of options.instances) {
      const services: ServiceProcess[] = [];
      try {
        for (let n = 1; n <= instances; n += 1) {
          services.push(
            await startService({
              name: `flow-${instances}-${n}`,
              role: 'all',
              redisUrl: options.redisUrl,
              keyPrefix: options.keyPrefix,
              secureAuth: options.secureAuth,
              main: fileURLToPath(new URL('./support/service-with-fcm-stand-in.ts', import.meta.url)),
              env: { PUBLIC_URL, FIREBASE_SERVICE_ACCOUNT_FILE: fcm.serviceAccountFile, BENCH_FCM_PORT: String(fcm.port) },
            }),
          );
        }
        const urls = services.map((service) => service.url!);
        while ((await queue.getWorkersCount()) < instances) await sleep(100);
        if (users === undefined) {
          log(`flow: enrolling ${options.requests} users with one phone each`);
          users = await seedUsers(urls[0]!, options.requests, 'flow', { withPushToken: true });
        }
        const seeded = users;

        log(`flow (${instances} instance${instances > 1 ? 's' : ''}): ${options.requests} start calls at ${options.rate}/s`);
        const tag = `flow${instances}-${Date.now().toString(36)}`;
        const loginOf = (index: number): string => `${tag}-${index}`;
        const requestIds = seeded.map((user, index) => requestIdFor(partitionOf(user.device.deviceId), loginOf(index)));
        const startSentAt: number[] = new Array<number>(seeded.length);
        const startTimes: number[] = [];
        const startCalls: Array<Promise<void>> = [];
        const startsBegan = performance.now();
        for (const [index, user] of seeded.entries()) {
          const wait = startsBegan + (index * 1000) / options.rate - performance.now();
          if (wait > 0) await sleep(wait);
          startCalls.push(
            (async () => {
              startSentAt[index] = now();
              const response = await fetch(`${urls[index % urls.length]}/authentication/start`, {
                method: 'POST',
                headers: { authorization: BASIC_AUTHORIZATION, 'content-type': 'application/json' },
                body: JSON.stringify({
                  login_id: loginOf(index),
                  user_identifier: user.alias,
                  state: `${index}-b5f0c7e2a1d94e3f8a6b2c1d0e9f8a7b`,
                  client_id: 'pos-terminal',
                  requested_scopes: ['openid', 'profile'],
                  binding_message: 'Pay 50 EUR to Corner Shop',
                }),
              });
              startTimes.push(now() - startSentAt[index]!);
              if (response.status !== 200) throw new Error(`start failed: ${response.status}`);
              const { request_id: requestId } = (await response.json()) as { request_id: string };
              if (requestId !== requestIds[index]) throw new Error(`request id ${requestId}, expected ${requestIds[index]}`);
            })(),
          );
        }
        await Promise.all(startCalls);
        const pushDeadline = Date.now() + 60_000;
        while (requestIds.some((id) => !prompts.has(id)) && Date.now() < pushDeadline) await sleep(50);
        const pushTimes = requestIds.flatMap((id, index) => {
          const at = prompts.get(id);
          return at === undefined ? [] : [at - startSentAt[index]!];
        });

        log('flow: waiting until every device lists its request');
        const views: RequestView[] = new Array<RequestView>(seeded.length);
        await inParallel(seeded, 4, async (user, index) => {
          const deadline = Date.now() + 60_000;
          for (;;) {
            const listed = await deviceCall(user.device, urls[index % urls.length]!, 'GET', '/device/v1/requests');
            const view = (listed.body as { requests?: RequestView[] }).requests?.find((candidate) => candidate.request_id === requestIds[index]);
            if (view !== undefined) {
              views[index] = view;
              return;
            }
            if (Date.now() > deadline) throw new Error(`request ${requestIds[index]} never reached its device`);
            await sleep(100);
          }
        });
        // The decision JWS is signed before the clock starts: the device's own work is not measured.
        const decisions = await Promise.all(seeded.map((user, index) => user.device.decisionToken(views[index]!, 'approve')));

        log(`flow: ${seeded.length} decisions at ${options.rate}/s`);
        const load = loadavg()[0] ?? 0;
        const callsBefore = options.secureAuth.outcomeCalls();
        const callTimes: number[] = [];
        const acceptedAt = new Map<string, number>();
        const began = performance.now();
        const calls: Array<Promise<void>> = [];
        for (const [index, user] of seeded.entries()) {
          const due = began + (index * 1000) / options.rate;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
          calls.push(
            (async () => {
              const path = `/device/v1/requests/${encodeURIComponent(requestIds[index]!)}/decision`;
              const sent = performance.now();
              const answer = await deviceCall(user.device, urls[index % urls.length]!, 'POST', path, { decision: decisions[index] });
              const answered = performance.now();
              if (answer.status !== 202) throw new Error(`decision answered ${answer.status}: ${JSON.stringify(answer.body)}`);
              callTimes.push(answered - sent);
              acceptedAt.set(loginOf(index), answered);
            })(),
          );
        }
        await Promise.all(calls);
        const deadline = Date.now() + 60_000;
        while ([...acceptedAt.keys()].some((login) => !options.secureAuth.outcomes.has(login)) && Date.now() < deadline) await sleep(50);
        await sleep(500); // a duplicate would arrive now
        const outcomeTimes: number[] = [];
        let received = 0;
        for (const [login, answered] of acceptedAt) {
          const outcome = options.secureAuth.outcomes.get(login);
          if (outcome === undefined) continue;
          received += 1;
          outcomeTimes.push(outcome.at - answered);
        }
        const calls202 = summarize(callTimes);
        const outcome = summarize(outcomeTimes);
        const starts = summarize(startTimes);
        const push = summarize(pushTimes);
        rows.push({
          instances,
          requests: seeded.length,
          rate: options.rate,
          startCall: { p50: starts.p50, p99: starts.p99, max: starts.max },
          push: { p50: push.p50, p99: push.p99, max: push.max },
          pushesReceived: pushTimes.length,
          decisionCall: { p50: calls202.p50, p99: calls202.p99, max: calls202.max },
          outcome: { p50: outcome.p50, p99: outcome.p99, max: outcome.max },
          outcomesReceived: received,
          duplicateOutcomes: options.secureAuth.outcomeCalls() - callsBefore - received,
          load,
        });
        log(`  start 200 p50 ${starts.p50.toFixed(1)} ms p99 ${starts.p99.toFixed(1)} ms; push p50 ${push.p50.toFixed(1)} ms p99 ${push.p99.toFixed(1)} ms; ${pushTimes.length}/${seeded.length} pushed`);
        log(`  decision 202 p50 ${calls202.p50.toFixed(1)} ms p99 ${calls202.p99.toFixed(1)} ms; outcome p50 ${outcome.p50.toFixed(1)} ms p99 ${outcome.p99.toFixed(1)} ms; ${received}/${seeded.length} received`);
      } finally {
        await Promise.all(services.map((service) => service.stop()));
      }
    }
  } finally {
    await queue.close();
    await queueRedis.quit();
    await fcm.close();
  }
  if (fcm.problems.length > 0) log(`FCM stand-in found problems: ${fcm.problems.slice(0, 5).join('; ')}`);
  return rows;
}
