import { EventEmitter } from 'node:events';

/**
 * The real Node `process`. Inside Jest the global `process` (and `node:process`) is a per-test copy
 * whose 'exit' listeners never fire, so clean-up hooks must be attached to the host process. A
 * function made with the Function constructor of a host-realm object (EventEmitter from the real
 * `node:events`) runs in the host realm and sees the real `process`. Outside Jest both are the same.
 */
export function hostProcess(): NodeJS.Process {
  const HostFunction = EventEmitter.constructor as FunctionConstructor;
  return (new HostFunction('return process') as () => NodeJS.Process)();
}

const EXIT_CLEANUPS = Symbol.for('ciba-authentication-service.exit-cleanups');
type HostWithCleanups = NodeJS.Process & { [EXIT_CLEANUPS]?: Set<() => void> };

/**
 * Runs `cleanup` (synchronous: 'exit' listeners cannot wait) when the real process exits. Jest loads
 * a module again for every test file in the same worker, so each copy registers here, under one
 * listener per process, instead of adding a listener of its own (Node warns past ten).
 */
export function onHostExit(cleanup: () => void): void {
  const host = hostProcess() as HostWithCleanups;
  let cleanups = host[EXIT_CLEANUPS];
  if (cleanups === undefined) {
    const registered = new Set<() => void>();
    cleanups = registered;
    host[EXIT_CLEANUPS] = registered;
    host.on('exit', () => {
      for (const run of registered) run();
    });
  }
  cleanups.add(cleanup);
}
