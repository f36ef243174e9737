/**
 * The sweep runner: the cells of an experiment grid run on worker_threads (one per core by default),
 * each seeded by `deriveSeed(seed, cellIndex)`, so that the numbers never depend on the number of
 * workers or on the order in which cells finish.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkSignal, yieldToEventLoop } from '../abort.js';
import { backendInfo } from '../backend/index.js';
import { setNativeThreads } from '../backend/native.js';
import { fail, int } from '../backend/validate.js';
import { checkSeed, deriveSeed } from '../random.js';
import { checkCallback } from '../train/run.js';
import { runTask, TASKS, type TaskName, type TaskParams, type TaskResult } from './cells.js';

/** Progress of a sweep, reported after every finished cell. */
export interface SweepProgress {
  /** Cells finished so far. */
  done: number;
  /** Cells in the sweep. */
  total: number;
}

/** Options shared by every sweep (and by the experiments that run one). */
export interface SweepOptions {
  /** Parent seed; cell i gets `deriveSeed(seed, i)`. */
  seed: number;
  /**
   * Worker threads; default one per core (`os.availableParallelism()`). `1` runs every cell in this
   * thread, which gives the same numbers as any other count.
   */
  workers?: number;
  /** Stops the sweep: cells already finished are kept, the others are reported as missing. */
  signal?: AbortSignal;
  /** Called after each finished cell. */
  onProgress?: (progress: SweepProgress) => void;
}

/** What a sweep returns: one entry per cell, `null` where the sweep was aborted before the cell finished. */
export interface SweepOutcome<R> {
  results: (R | null)[];
  /** True when the signal stopped the sweep before every cell finished. */
  aborted: boolean;
}

/** Messages between the pool and a worker (see worker.ts). */
export type ToWorker =
  | { type: 'init'; backend: string }
  | { type: 'cell'; index: number; task: TaskName; params: unknown; seed: number };
export type FromWorker =
  | { type: 'result'; index: number; result: unknown }
  | { type: 'error'; index: number; name: string; message: string };

/** Default worker count: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Starts one worker. After `tsc` the entry is dist/experiments/worker.js; when this module runs from
 * its TypeScript source (tsx), no .js sibling exists and the worker registers tsx's CommonJS hook
 * before loading worker.ts, so both layouts run the same code.
 */
function startWorker(): Worker {
  const js = join(__dirname, 'worker.js');
  if (existsSync(js)) return new Worker(js);
  const ts = join(__dirname, 'worker.ts');
  const tsx = require.resolve('tsx/cjs', { paths: [__dirname] });
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(ts)});`, { eval: true });
}

function abortedOutcome<R>(results: (R | null)[]): SweepOutcome<R> {
  return { results, aborted: results.some((r) => r === null) };
}

/**
 * Runs `task` on every cell. Cell i is computed from `(cells[i], deriveSeed(seed, i))` only.
 * Rejects with the cell's error if one throws (after stopping the other workers).
 */
export async function runSweep<T extends TaskName>(
  task: T, cells: readonly TaskParams<T>[], options: SweepOptions,
): Promise<SweepOutcome<TaskResult<T>>> {
  if (!Object.hasOwn(TASKS, task)) fail(Object.keys(TASKS).map((t) => `'${t}'`).join(' or '), 'task', task);
  if (!Array.isArray(cells)) fail('an array of cell parameters', 'cells', cells, TypeError);
  if (typeof options !== 'object' || options === null) fail('an options object { seed, ... }', 'options', options, TypeError);
  checkSeed('seed', options.seed);
  if (options.workers !== undefined) int('workers', options.workers, 1);
  checkSignal('signal', options.signal);
  checkCallback('onProgress', options.onProgress);
  const { seed, signal, onProgress } = options;
  const workers = Math.max(1, Math.min(options.workers ?? defaultWorkers(), cells.length));
  const results: (TaskResult<T> | null)[] = Array(cells.length).fill(null);
  let done = 0;
  if (workers <= 1) {
    for (let i = 0; i < cells.length; i++) {
      // Yield to the event loop between cells so that an abort (Ctrl-C) is seen.
      await yieldToEventLoop();
      if (signal?.aborted) break;
      results[i] = await runTask(task, cells[i], deriveSeed(seed, i));
      done++;
      onProgress?.({ done, total: cells.length });
    }
    return abortedOutcome(results);
  }
  const { backend, threads } = backendInfo();
  // The workers share the native addon's thread pool. With a worker per core, a second pool thread
  // (trainSteps' noise thread, a parallel region) only takes a core from another worker: the pool runs
  // one thread during the sweep. Measured on the K = 2 phase diagram of `npm start`: 13.1 s with two,
  // 9.8 s with one.
  if (backend === 'native') setNativeThreads(1);
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    let next = 0, settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (backend === 'native') setNativeThreads(threads);
      for (const w of pool) void w.terminate();
      if (error) reject(error);
      else resolve(abortedOutcome(results));
    };
    const onAbort = (): void => finish();
    const feed = (w: Worker): void => {
      if (next >= cells.length) {
        if (done === cells.length) finish();
        return;
      }
      const index = next++;
      const msg: ToWorker = { type: 'cell', index, task, params: cells[index], seed: deriveSeed(seed, index) };
      w.postMessage(msg);
    };
    if (signal?.aborted) {
      finish();
      return;
    }
    signal?.addEventListener('abort', onAbort);
    for (let k = 0; k < workers; k++) {
      const w = startWorker();
      pool.push(w);
      w.on('message', (msg: FromWorker) => {
        if (settled) return;
        if (msg.type === 'error') {
          const e = new Error(msg.message);
          e.name = msg.name;
          finish(e);
          return;
        }
        results[msg.index] = msg.result as TaskResult<T>;
        done++;
        onProgress?.({ done, total: cells.length });
        feed(w);
      });
      w.on('error', (e) => finish(e));
      w.on('exit', (code) => {
        if (!settled) finish(new Error(`molrg: a sweep worker exited with code ${code} before the sweep finished`));
      });
      const init: ToWorker = { type: 'init', backend };
      w.postMessage(init);
      feed(w);
    }
  });
}
