/**
 * Where a V8 CPU profile (`node --cpu-prof`, as written by `npm run bench -- --profile`) spends its
 * time: self time by package (or by project file), then the heaviest functions, and the inclusive
 * time of the service's own middlewares and use cases.
 *
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/api-1-….cpuprofile [top] [skip-seconds]
 *
 * skip-seconds leaves out the first seconds of the profile (start-up: module loading and compiling).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function area(url: string): string {
  if (url === '') return '(native / V8)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `npm: ${modules[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  const project = /\/dist\/(src\/.+)$/.exec(url);
  if (project) return `project: ${project[1]}`;
  return url;
}

function main(): void {
  const [file, topArg, skipArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top] [skip-seconds]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // Drop the samples of the first seconds (start-up) by zeroing their weight.
  const skipUs = Number(skipArg ?? 0) * 1e6;
  let elapsed = 0;
  profile.timeDeltas = profile.timeDeltas.map((delta) => {
    elapsed += delta;
    return elapsed < skipUs ? 0 : delta;
  });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Self time per node from the samples and their time deltas (µs).
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((sum, [, v]) => sum + v, 0);
  const busy = total - idle;
  const pct = (value: number): string => `${((100 * value) / busy).toFixed(1)} %`;

  const selfBy = (key: (node: ProfileNode) => string): Array<[string, number]> => {
    const sums = new Map<string, number>();
    for (const [id, time] of self) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName === '(idle)') continue;
      sums.set(key(node), (sums.get(key(node)) ?? 0) + time);
    }
    return [...sums.entries()].sort((a, b) => b[1] - a[1]);
  };

  process.stdout.write(`profile: ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)} %)\n\n`);
  process.stdout.write('self time by area (share of busy time)\n');
  for (const [name, time] of selfBy((node) => area(node.callFrame.url)).slice(0, top)) process.stdout.write(`  ${pct(time).padStart(7)}  ${name}\n`);
  process.stdout.write('\nself time by function\n');
  for (const [name, time] of selfBy((node) => `${node.callFrame.functionName || '(anonymous)'} ${area(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`).slice(0, top)) {
    process.stdout.write(`  ${pct(time).padStart(7)}  ${name}\n`);
  }

  // Inclusive time: a sample counts once for every distinct area on its stack.
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const node = byId.get(current)!;
      if (node.callFrame.functionName === '(idle)') return;
      seen.add(area(node.callFrame.url));
    }
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  process.stdout.write('\ninclusive time by area (anything below it on the stack counts)\n');
  for (const [name, time] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(time).padStart(7)}  ${name}\n`);
}

main();
