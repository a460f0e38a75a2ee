/** The Markdown that `npm run bench` prints: machine, options, one table per section, targets. */
import type { FlowRow } from './flow-latency.js';
import type { HttpRow } from './http-endpoints.js';
import type { MemoryBreakdown, MemoryReport } from './redis-memory.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  commit: string;
  date: string;
}

export interface BenchReport {
  machine: Machine;
  options: Record<string, unknown>;
  loadBefore: number;
  loadAfter?: number;
  http?: HttpRow[];
  memory?: MemoryReport;
  flow?: FlowRow[];
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '–');
const int = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-GB') : '–');

const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function httpTables(rows: HttpRow[]): string[] {
  const lines: string[] = [];
  lines.push('**Every run**', '');
  lines.push('| scenario | endpoint | target | mode | req/s | p50 ms | p99 ms | max ms | CPU µs / req | non-2xx / errors | load |');
  lines.push('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const mode = row.mode === 'max' ? `closed, ${row.connections} conn.` : `open, ${int(row.rate ?? 0)}/s`;
    const r = row.result;
    lines.push(
      `| ${row.scenario} | \`${row.endpoint}\` | ${row.target} | ${mode} | ${int(r.requestsPerSecond)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${int(r.cpuPerRequestUs)} | ${r.non2xx} / ${r.errors} | ${r.load.toFixed(2)} |`,
    );
  }
  lines.push('', '**Against the targets** (medians of the closed-loop rounds; the CPU ratio, baseline CPU per request ÷ service CPU per request, is the throughput ratio when the measured process and not the machine is what limits, and moves far less with the load of the machine)', '');
  lines.push('| scenario | endpoint | service req/s | baseline req/s | ratio (≥ 0.7) | CPU µs / req service / baseline (ratio) | service p50 / p99 ms | baseline p50 / p99 ms | service p99 at half its max (< 10 ms) | baseline p99 at half its max |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const groups = new Map<string, HttpRow[]>();
  for (const row of rows) {
    const key = `${row.scenario}\u0000${row.endpoint}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const [key, group] of groups) {
    const [scenario, endpoint] = key.split('\u0000');
    const pick = (target: 'service' | 'baseline', mode: 'max' | 'half'): HttpRow[] => group.filter((row) => row.target === target && row.mode === mode);
    const service = pick('service', 'max');
    const baseline = pick('baseline', 'max');
    const serviceRps = median(service.map((row) => row.result.requestsPerSecond));
    const baselineRps = median(baseline.map((row) => row.result.requestsPerSecond));
    const ratio = serviceRps / baselineRps;
    const half = pick('service', 'half')[0]?.result.p99 ?? Number.NaN;
    const baselineHalf = pick('baseline', 'half')[0]?.result.p99 ?? Number.NaN;
    const serviceCpu = median(service.map((row) => row.result.cpuPerRequestUs));
    const baselineCpu = median(baseline.map((row) => row.result.cpuPerRequestUs));
    const mark = (ok: boolean): string => (ok ? '✅' : '❌');
    lines.push(
      `| ${scenario} | \`${endpoint}\` | ${int(serviceRps)} | ${int(baselineRps)} | ${ratio.toFixed(2)} ${mark(ratio >= 0.7)} | ${int(serviceCpu)} / ${int(baselineCpu)} (${(baselineCpu / serviceCpu).toFixed(2)}) | ${ms(median(service.map((r) => r.result.p50)))} / ${ms(median(service.map((r) => r.result.p99)))} | ${ms(median(baseline.map((r) => r.result.p50)))} / ${ms(median(baseline.map((r) => r.result.p99)))} | ${ms(half)} ${mark(half < 10)} | ${ms(baselineHalf)} |`,
    );
  }
  return lines;
}

const PER_DEVICE = ['device', 'devices', 'active', 'dtok'];
const PER_USER = ['user', 'id'];

function bytesOf(breakdown: MemoryBreakdown, kinds: (kind: string) => boolean): number {
  return Object.entries(breakdown)
    .filter(([kind]) => kinds(kind))
    .reduce((sum, [, entry]) => sum + entry.bytes, 0);
}

function memoryTables(memory: MemoryReport): string[] {
  const n = memory.count;
  const lines: string[] = [];
  const minus = (after: MemoryBreakdown, before: MemoryBreakdown): MemoryBreakdown => {
    const result: MemoryBreakdown = {};
    for (const [kind, entry] of Object.entries(after)) {
      const earlier = before[kind] ?? { keys: 0, bytes: 0 };
      if (entry.bytes !== earlier.bytes || entry.keys !== earlier.keys) result[kind] = { keys: entry.keys - earlier.keys, bytes: entry.bytes - earlier.bytes };
    }
    return result;
  };
  const started = minus(memory.afterStart, memory.afterEnrolment);
  const pending = minus(memory.whilePending, memory.afterEnrolment);
  const kinds = [...new Set([...Object.keys(memory.afterEnrolment), ...Object.keys(started), ...Object.keys(pending)])].sort();
  lines.push(`${n} users, one phone each, one request each. Bytes per device / per request (\`MEMORY USAGE … SAMPLES 0\`, summed by kind of key, ÷ ${n}):`, '');
  lines.push('| kind of key | after enrolment (per user) | request after start | request while pending (prepared) |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const kind of kinds) {
    const cell = (breakdown: MemoryBreakdown): string => {
      const entry = breakdown[kind];
      return entry === undefined ? '' : `${int(entry.bytes / n)} (${entry.keys} keys)`;
    };
    lines.push(`| \`${kind}\` | ${cell(memory.afterEnrolment)} | ${cell(started)} | ${cell(pending)} |`);
  }
  // Capped streams: BullMQ's events (about 10,000 entries) and the audit trail (AUDIT_MAX_EVENTS).
  const isEvents = (kind: string): boolean => kind === 'queue: events' || kind === 'audit';
  const device = bytesOf(memory.afterEnrolment, (kind) => PER_DEVICE.includes(kind)) / n;
  const user = bytesOf(memory.afterEnrolment, (kind) => PER_USER.includes(kind)) / n;
  const startedTotal = bytesOf(started, (kind) => !isEvents(kind)) / n;
  const pendingTotal = bytesOf(pending, (kind) => !isEvents(kind)) / n;
  const pendingRecord = bytesOf(pending, (kind) => ['req', 'pending', 'expiring'].includes(kind)) / n;
  const keptJobs = bytesOf(pending, (kind) => kind.startsWith('job: ') || ['queue: delayed', 'queue: completed', 'queue: wait'].includes(kind)) / n;
  lines.push('');
  lines.push('| figure | MEMORY USAGE sum | used_memory growth | target |');
  lines.push('| --- | ---: | ---: | --- |');
  lines.push(`| per device (device hash, user's device index and active set, token index) | ${int(device)} B | ${int(memory.usedMemoryPerDevice)} B (with the user) | – |`);
  lines.push(`| per user (user hash, identifier keys) | ${int(user)} B | | – |`);
  lines.push(`| per request right after start (record, indexes, queued prepare job) | ${int(startedTotal)} B | ${int(memory.usedMemoryPerRequestAfterStart)} B | ≤ 1,024 B ${startedTotal <= 1024 ? '✅' : '❌'} |`);
  lines.push(`| per pending request, prepared (record, indexes, its jobs) | ${int(pendingTotal)} B | ${int(memory.usedMemoryPerRequestWhilePending)} B | ≤ 1,024 B ${pendingTotal <= 1024 ? '✅' : '❌'} |`);
  lines.push(`| … of which the request record and its index entries (user's pending index with the day counts, expiry index) | ${int(pendingRecord)} B | | |`);
  lines.push(`| … of which jobs still in Redis (finished jobs are removed; the expiry is a periodic sweep, not a job per request) | ${int(keptJobs)} B | | |`);
  lines.push('', "Capped streams are left out of the per-request sums: BullMQ's events (`queue: events`, about 10,000 entries whatever the load) and the audit trail (`audit`, `AUDIT_MAX_EVENTS` entries, 100,000 by default).");
  return lines;
}

function flowTable(rows: FlowRow[]): string[] {
  const lines: string[] = [];
  lines.push('| instances | requests | rate /s | start call p50 / p99 ms | start → push received p50 / p99 / max ms | pushed | decision call p50 / p99 ms | 202 → accept received p50 / p99 / max ms | outcomes | duplicate outcomes | load |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    lines.push(
      `| ${row.instances} | ${row.requests} | ${row.rate} | ${ms(row.startCall.p50)} / ${ms(row.startCall.p99)} | ${ms(row.push.p50)} / ${ms(row.push.p99)} / ${ms(row.push.max)} | ${row.pushesReceived} | ${ms(row.decisionCall.p50)} / ${ms(row.decisionCall.p99)} | ${ms(row.outcome.p50)} / ${ms(row.outcome.p99)} / ${ms(row.outcome.max)} | ${row.outcomesReceived} | ${row.duplicateOutcomes} | ${row.load.toFixed(2)} |`,
    );
  }
  return lines;
}

export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`### Run of ${m.date}`, '');
  lines.push(`Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, Redis ${m.redis}; commit ${m.commit}.`);
  lines.push(`1-minute load average ${report.loadBefore.toFixed(2)} before, ${(report.loadAfter ?? Number.NaN).toFixed(2)} after.`);
  lines.push(`Options: \`${JSON.stringify(report.options)}\``, '');
  if (report.http !== undefined) lines.push('#### HTTP endpoints', '', ...httpTables(report.http), '');
  if (report.memory !== undefined) lines.push('#### Redis memory', '', ...memoryTables(report.memory), '');
  if (report.flow !== undefined) lines.push('#### Start → push sent, decision → outcome sent', '', ...flowTable(report.flow), '');
  return `${lines.join('\n')}\n`;
}
