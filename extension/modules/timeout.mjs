// A bound on how long the add-on waits for something that may never answer: the host starting,
// a Thunderbird API that waits for a message load that never ends. Pure (timers are injected), so
// node's test runner can drive it.

import { HostError, LocalError } from "./ops.mjs";

/**
 * Resolves or rejects as `promise` does, or rejects with a HostError `timeout` once `ms` have
 * passed. What `promise` does after that is ignored (and never an unhandled rejection); it is not
 * cancelled.
 */
export function withTimeout(promise, ms, message = `no answer within ${ms} ms`, timers = globalThis) {
  const work = Promise.resolve(promise);
  work.catch(() => {});
  let timer = null;
  const expired = new Promise((_, reject) => {
    timer = timers.setTimeout(() => reject(new HostError(LocalError.timeout, message)), Math.max(0, ms));
  });
  return Promise.race([work, expired]).finally(() => timers.clearTimeout(timer));
}
