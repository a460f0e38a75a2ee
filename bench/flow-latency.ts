/**
 * Decision → outcome-sent latency: from the device's decision being answered 202 to SecureAuth's
 * stand-in receiving the accept (record-decision queues complete-request; a worker takes it and calls
 * the System API). Service processes run in the role `all` (HTTP and jobs) behind one public URL, as
 * behind a load balancer; with two instances the calls alternate between them and either worker may
 * report the outcome.
 *
 * Per configuration: N requests are started (one per user) and prepared, every device sees its own,
 * then the decisions are sent open loop at a fixed rate, each on schedule.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DeviceClient, RequestView } from '../dev/device-client.js';
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runFlowLatency(options: FlowOptions): Promise<FlowRow[]> {
  const { log } = options;
  const rows: FlowRow[] = [];
  let users: SeededUser[] | undefined;
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
              env: { PUBLIC_URL },
            }),
          );
        }
        const urls = services.map((service) => service.url!);
        while ((await queue.getWorkersCount()) < instances) await sleep(100);
        if (users === undefined) {
          log(`flow: enrolling ${options.requests} users with one phone each`);
          users = await seedUsers(urls[0]!, options.requests, 'flow');
        }
        const seeded = users;

        log(`flow (${instances} instance${instances > 1 ? 's' : ''}): starting ${options.requests} requests`);
        const tag = `flow${instances}-${Date.now().toString(36)}`;
        const loginOf = (index: number): string => `${tag}-${index}`;
        const requestIds: string[] = new Array<string>(seeded.length);
        await inParallel(seeded, 8, async (user, index) => {
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
          if (response.status !== 200) throw new Error(`start failed: ${response.status}`);
          requestIds[index] = ((await response.json()) as { request_id: string }).request_id;
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
        rows.push({
          instances,
          requests: seeded.length,
          rate: options.rate,
          decisionCall: { p50: calls202.p50, p99: calls202.p99, max: calls202.max },
          outcome: { p50: outcome.p50, p99: outcome.p99, max: outcome.max },
          outcomesReceived: received,
          duplicateOutcomes: options.secureAuth.outcomeCalls() - callsBefore - received,
          load,
        });
        log(`  decision 202 p50 ${calls202.p50.toFixed(1)} ms p99 ${calls202.p99.toFixed(1)} ms; outcome p50 ${outcome.p50.toFixed(1)} ms p99 ${outcome.p99.toFixed(1)} ms; ${received}/${seeded.length} received`);
      } finally {
        await Promise.all(services.map((service) => service.stop()));
      }
    }
  } finally {
    await queue.close();
    await queueRedis.quit();
  }
  return rows;
}
