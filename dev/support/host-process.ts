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
