/**
 * Cancellation of long work (DESIGN.md): every long-running function takes an optional AbortSignal
 * and, once it is aborted, throws an Error named `AbortError` at its next check.
 */
import { fail } from './backend/validate.js';

/** Checks an optional `signal` option: undefined or an AbortSignal. */
export function checkSignal(name: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean') {
    fail('an AbortSignal', name, signal, TypeError);
  }
  return signal as AbortSignal;
}

/**
 * Throws an Error named `AbortError` (the abort reason as its `cause`) when `signal` is aborted.
 * @param what - what was interrupted, for the message, e.g. `sampling at step 3 of 18`
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (!signal?.aborted) return;
  const e = new Error(`molrg: ${what} was aborted`, { cause: signal.reason });
  e.name = 'AbortError';
  throw e;
}

/**
 * Lets pending events (an abort, a progress redraw) run between chunks of synchronous work:
 * setImmediate in Node, a zero-delay timeout where it does not exist (browsers, workers).
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}
