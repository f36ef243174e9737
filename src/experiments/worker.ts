/**
 * Entry of a sweep worker thread (see sweep.ts): sets the parent's backend, then computes the cells
 * it is sent, one at a time, and posts back each result or error.
 */
import { parentPort } from 'node:worker_threads';
import { setBackend, type BackendName } from '../backend/index.js';
import type { FromWorker, ToWorker } from './sweep.js';
import { runTask } from './cells.js';

const port = parentPort;
if (!port) throw new Error('molrg: experiments/worker is a worker_threads entry and must not be run directly');

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'init') {
    setBackend(msg.backend as BackendName);
    return;
  }
  const { index } = msg;
  Promise.resolve()
    .then(() => runTask(msg.task, msg.params as never, msg.seed))
    .then(
      (result) => port.postMessage({ type: 'result', index, result } satisfies FromWorker),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        port.postMessage({ type: 'error', index, name: err.name, message: err.message } satisfies FromWorker);
      },
    );
});
