/**
 * Long computations (training, clustering) are written once, as generators that `yield` at safe
 * points (between optimiser steps, between K-subspaces iterations). `runSync` drives one to the end
 * on the spot; `runAsync` gives the event loop a turn every few milliseconds so that an AbortSignal
 * fired by a timer, a signal handler or a UI can cancel it (DESIGN.md: long work is cancellable).
 */
import { yieldToEventLoop } from '../abort.js';
import { fail } from '../backend/validate.js';

/** A long computation: yields at safe points, returns its result. */
export type Work<T> = Generator<void, T, void>;

/** Runs `work` to completion synchronously. */
export function runSync<T>(work: Work<T>): T {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
  }
}

/** Time slice between event-loop turns in `runAsync`, milliseconds. */
const SLICE_MS = 25;

/** Runs `work` to completion, yielding to the event loop every SLICE_MS. */
export async function runAsync<T>(work: Work<T>): Promise<T> {
  let t0 = performance.now();
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
    if (performance.now() - t0 > SLICE_MS) {
      await yieldToEventLoop();
      t0 = performance.now();
    }
  }
}

/** Validates an optional callback option. */
export function checkCallback<F>(name: string, f: unknown): F | undefined {
  if (f === undefined) return undefined;
  if (typeof f !== 'function') fail('a function', name, f, TypeError);
  return f as F;
}
