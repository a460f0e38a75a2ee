/**
 * The benchmark's other side, in a worker thread so it does not share the service's event loop: the
 * local FCM stand-in (which notes when each prompt arrives) and the load generator playing SecureAuth
 * (which notes when each `/authentication/start` was sent). Both clocks are
 * `performance.timeOrigin + performance.now()` in this one thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { startFcmStandIn, type RecordedFcmMessage } from '../test/support/fcm-stand-in.js';

export interface LoadPlan {
  url: string;
  authorization: string;
  /** One entry per request, in sending order: the user identifier and how many prompts to expect. */
  requests: Array<{ user: string; devices: number }>;
  /** Start calls in flight at once (closed loop), or… */
  concurrency: number;
  /** …a fixed rate of start calls per second (open loop) when set. */
  ratePerSecond?: number;
  label: string;
  timeoutMs: number;
}

export interface LoadResult {
  label: string;
  requests: number;
  promptsExpected: number;
  promptsReceived: number;
  startFailures: number;
  /** From the first start sent to the last prompt received. */
  wallMs: number;
  /** From the first start sent to the last start answered. */
  startPhaseMs: number;
  /** Per request: start sent → first / last of its prompts received by the FCM stand-in. */
  firstPromptMs: number[];
  lastPromptMs: number[];
  startAnswerMs: number[];
}

export type HarnessCommand = { kind: 'load'; plan: LoadPlan } | { kind: 'stop' };
export type HarnessEvent =
  | { kind: 'ready'; port: number; serviceAccountFile: string; projectId: string }
  | { kind: 'result'; result: LoadResult }
  | { kind: 'stopped'; problems: string[] };

const clock = (): number => performance.timeOrigin + performance.now();

interface Pending {
  sentAt: number;
  expected: number;
  received: number;
  first?: number;
  last?: number;
}

const port = parentPort;
if (port === null) throw new Error('fcm-harness runs as a worker thread');

const byRequest = new Map<string, Pending>();
/** Prompts that arrived before their start call was answered (the id is not known yet). */
const early = new Map<string, number[]>();
let promptsReceived = 0;
let lastPromptAt = 0;
let onProgress: (() => void) | undefined;

const onMessage = (message: RecordedFcmMessage): void => {
  const data = message.message.data as { type?: string; request_id?: string } | undefined;
  if (data?.type !== 'ciba.request' || data.request_id === undefined || message.status !== 200) return;
  promptsReceived += 1;
  lastPromptAt = message.receivedAt;
  const pending = byRequest.get(data.request_id);
  if (pending === undefined) early.set(data.request_id, [...(early.get(data.request_id) ?? []), message.receivedAt]);
  else arrive(pending, message.receivedAt);
  onProgress?.();
};

function arrive(pending: Pending, at: number): void {
  pending.received += 1;
  pending.first = Math.min(pending.first ?? at, at);
  pending.last = Math.max(pending.last ?? at, at);
}

const standIn = await startFcmStandIn({ projectId: 'ciba-bench', record: false, onMessage });
port.postMessage({ kind: 'ready', port: standIn.port, serviceAccountFile: standIn.serviceAccountFile, projectId: standIn.projectId } satisfies HarnessEvent);

async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  byRequest.clear();
  early.clear();
  promptsReceived = 0;
  const promptsExpected = plan.requests.reduce((sum, request) => sum + request.devices, 0);
  const startAnswerMs: number[] = [];
  const pendings: Pending[] = [];
  let startFailures = 0;
  let next = 0;
  let lastAnswerAt = 0;
  const firstSentAt = clock();
  const runId = `${plan.label}-${Date.now()}`;

  const sendOne = async (index: number): Promise<void> => {
    const request = plan.requests[index]!;
    const sentAt = clock();
    const response = await fetch(`${plan.url}/authentication/start`, {
      method: 'POST',
      headers: { authorization: plan.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({
        login_id: `${runId}-${index}`,
        user_identifier: request.user,
        state: `state-${index}`,
        client_id: 'bench-pos',
        requested_scopes: ['openid', 'payments'],
        binding_message: `Pay ${index} EUR`,
      }),
    });
    const answeredAt = clock();
    lastAnswerAt = Math.max(lastAnswerAt, answeredAt);
    startAnswerMs.push(answeredAt - sentAt);
    if (response.status !== 200) {
      startFailures += 1;
      await response.text();
      return;
    }
    const { request_id: requestId } = (await response.json()) as { request_id: string };
    const pending: Pending = { sentAt, expected: request.devices, received: 0 };
    for (const at of early.get(requestId) ?? []) arrive(pending, at);
    early.delete(requestId);
    byRequest.set(requestId, pending);
    pendings.push(pending);
  };

  if (plan.ratePerSecond === undefined) {
    const lane = async (): Promise<void> => {
      while (next < plan.requests.length) {
        const index = next;
        next += 1;
        await sendOne(index);
      }
    };
    await Promise.all(Array.from({ length: plan.concurrency }, lane));
  } else {
    // Open loop: each call leaves at its scheduled time whether or not earlier ones have been answered.
    const interval = 1000 / plan.ratePerSecond;
    const inFlight: Array<Promise<void>> = [];
    for (let index = 0; index < plan.requests.length; index += 1) {
      const due = firstSentAt + index * interval;
      const wait = due - clock();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(sendOne(index));
    }
    await Promise.all(inFlight);
  }

  const expectedFromAnswered = pendings.reduce((sum, pending) => sum + pending.expected, 0);
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, plan.timeoutMs);
    const check = (): void => {
      if (promptsReceived >= expectedFromAnswered) {
        clearTimeout(deadline);
        onProgress = undefined;
        resolve();
      }
    };
    onProgress = check;
    check();
  });

  return {
    label: plan.label,
    requests: plan.requests.length,
    promptsExpected,
    promptsReceived,
    startFailures,
    wallMs: lastPromptAt - firstSentAt,
    startPhaseMs: lastAnswerAt - firstSentAt,
    firstPromptMs: pendings.filter((p) => p.first !== undefined).map((p) => p.first! - p.sentAt),
    lastPromptMs: pendings.filter((p) => p.received >= p.expected && p.last !== undefined).map((p) => p.last! - p.sentAt),
    startAnswerMs,
  };
}

port.on('message', (command: HarnessCommand) => {
  if (command.kind === 'load') {
    void runLoad(command.plan).then((result) => port.postMessage({ kind: 'result', result } satisfies HarnessEvent));
  } else {
    void standIn.close().then(() => {
      port.postMessage({ kind: 'stopped', problems: [...standIn.problems] } satisfies HarnessEvent);
      port.close();
    });
  }
});
