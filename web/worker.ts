/**
 * The demo's Web Worker: all computation runs here, on the wasm backend of the browser entry, so the
 * page never freezes. Every number it posts comes from the library's functions.
 */
import {
  init, kSubspaces, lowRankDAE, matchSubspaces, preprocess, sample, supportError, trainDAE, type Matrix,
} from '../src/browser.mts';
import { phaseCell, phaseData } from '../src/experiments/cells.js';
import { deriveSeed } from '../src/random.js';
import { digits } from 'virtual:mnist-subset';
import type {
  FromWorker, Job, MnistParams, MnistResult, PhaseParams, PhaseResult, Progress, SyntheticParams,
  SyntheticResult, ToWorker,
} from './protocol.js';

const post = (m: FromWorker): void => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);
const running = new Map<number, AbortController>();
const ready = init().then((info) => post({ type: 'ready', backend: info.backend, isa: info.isa }));

self.addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(msg.id, controller);
  ready
    .then(() => run(msg.job, controller.signal, throttled(msg.id)))
    .then(
      (result) => post({ type: 'result', id: msg.id, result }),
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        post({ type: 'error', id: msg.id, name: error.name, message: error.message });
      },
    )
    .finally(() => running.delete(msg.id));
});

/** Progress posts, at most one per 20 ms per stage (the last one of a stage always goes out). */
function throttled(id: number): (p: Progress, force?: boolean) => void {
  const last = new Map<string, number>();
  return (progress, force = false) => {
    const now = performance.now();
    if (!force && now - (last.get(progress.stage) ?? -Infinity) < 20) return;
    last.set(progress.stage, now);
    post({ type: 'progress', id, progress });
  };
}

function run(job: Job, signal: AbortSignal, report: (p: Progress, force?: boolean) => void): Promise<SyntheticResult | PhaseResult | MnistResult> {
  switch (job.kind) {
    case 'synthetic': return synthetic(job.params, signal, report);
    case 'phase': return phase(job.params, signal, report);
    case 'mnist': return mnist(job.params, signal, report);
  }
}

async function synthetic(p: SyntheticParams, signal: AbortSignal, report: (p: Progress, force?: boolean) => void): Promise<SyntheticResult> {
  const { truth, x } = phaseData(p.K, p.n, p.d, p.N, p.seed);
  let t0 = performance.now();
  const dae = await trainDAE(x, {
    K: p.K, d: p.d, steps: p.steps, init: p.init, seed: deriveSeed(p.seed, 100), signal,
    onProgress: (q) => {
      const distances = matchSubspaces(q.bases(), truth.bases).distances;
      report({ stage: 'dae', step: q.step, steps: q.steps, loss: q.loss, distances }, q.step === q.steps);
    },
  });
  const daeMs = performance.now() - t0;
  const daeMatch = matchSubspaces(dae.bases, truth.bases);
  report({ stage: 'dae', step: p.steps, steps: p.steps, loss: dae.loss, distances: daeMatch.distances }, true);

  t0 = performance.now();
  const kss = await kSubspaces(x, {
    K: p.K, d: p.d, seed: deriveSeed(p.seed, 100), signal,
    onProgress: (q) => report({ stage: 'kss', iteration: q.iteration, objective: q.objective, restart: q.restart }),
  });
  const kssMs = performance.now() - t0;
  const kssMatch = matchSubspaces(kss.bases, truth.bases);

  const model = lowRankDAE(dae.bases, { pi: dae.pi, lambda: dae.lambda, delta: dae.delta });
  const generated = sample(model, {
    count: p.samples, seed: deriveSeed(p.seed, 200), signal,
    onProgress: (step, steps) => report({ stage: 'sample', step, steps }, step === steps),
  });
  model.dispose();
  const support = supportError(generated, truth.bases);
  const truthSamples = truth.sample(p.samples, deriveSeed(p.seed, 300));
  return {
    kind: 'synthetic',
    dae: { distances: daeMatch.distances, max: daeMatch.max, loss: dae.loss, ms: daeMs, history: dae.history },
    kss: { distances: kssMatch.distances, max: kssMatch.max, ms: kssMs },
    projections: truth.bases.map((U, k) => ({
      truth: project(truthSamples.x, U, (i) => truthSamples.labels[i] === k),
      generated: project(generated, U, (i) => nearestComponent(generated, truth.bases, i) === k),
    })),
    supportError: support.reduce((a, b) => a + b, 0) / support.length,
  };
}

/** Coordinates of the selected rows of x on the first two columns of U (a column of zeros if d = 1). */
function project(x: Matrix, U: Matrix, keep: (i: number) => boolean): [number[], number[]] {
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    if (!keep(i)) continue;
    let s = 0, t = 0;
    for (let j = 0; j < x.cols; j++) {
      const v = x.data[i * x.cols + j];
      s += v * U.data[j * U.cols];
      if (U.cols > 1) t += v * U.data[j * U.cols + 1];
    }
    a.push(s);
    b.push(t);
  }
  return [a, b];
}

/** The true component whose subspace captures the most energy of row i. */
function nearestComponent(x: Matrix, bases: readonly Matrix[], i: number): number {
  let best = -1, bestEnergy = -Infinity;
  bases.forEach((U, k) => {
    let e = 0;
    for (let c = 0; c < U.cols; c++) {
      let s = 0;
      for (let j = 0; j < x.cols; j++) s += x.data[i * x.cols + j] * U.data[j * U.cols + c];
      e += s * s;
    }
    if (e > bestEnergy) { bestEnergy = e; best = k; }
  });
  return best;
}

async function phase(p: PhaseParams, signal: AbortSignal, report: (p: Progress, force?: boolean) => void): Promise<PhaseResult> {
  const t0 = performance.now(), total = p.ds.length * p.Ns.length;
  let done = 0;
  for (const d of p.ds) {
    for (const N of p.Ns) {
      let ok = 0;
      for (let t = 0; t < p.trials; t++) {
        if (signal.aborted) throw Object.assign(new Error('phase transition cancelled'), { name: 'AbortError' });
        const cell = phaseCell({ K: p.K, n: p.n, d, N, methods: [p.method], dae: { steps: 200 } }, deriveSeed(p.seed, (d * 1000 + N) * 100 + t));
        if (cell.distances[0] < p.tau) ok++;
        await new Promise((r) => setTimeout(r, 0)); // let a cancel message in
      }
      done++;
      report({ stage: 'phase', done, total, cell: { N, d, rate: ok / p.trials } }, true);
    }
  }
  return { kind: 'phase', ms: performance.now() - t0 };
}

async function mnist(p: MnistParams, signal: AbortSignal, report: (p: Progress, force?: boolean) => void): Promise<MnistResult> {
  const t0 = performance.now(), side = 28, pixels = side * side;
  const rows: number[] = [];
  for (const c of p.classes) for (let i = 0; i < Math.min(p.perClass, digits.perClass); i++) rows.push(c * digits.perClass + i);
  const data = new Float32Array(rows.length * pixels);
  rows.forEach((r, i) => {
    for (let j = 0; j < pixels; j++) data[i * pixels + j] = digits.pixels[r * pixels + j] / 255;
  });
  // Each image scaled to unit norm, so that every class lies near a low-dimensional subspace through 0.
  const x = preprocess({ rows: rows.length, cols: pixels, data }, 'normalize');
  const K = p.classes.length;
  const dae = await trainDAE(x, {
    K, d: p.d, steps: p.steps, seed: p.seed, signal,
    onProgress: (q) => report({ stage: 'mnist', step: q.step, steps: q.steps, loss: q.loss }, q.step === q.steps),
  });
  const model = lowRankDAE(dae.bases, { pi: dae.pi, lambda: dae.lambda, delta: dae.delta });
  const gen = sample(model, { count: p.samples, seed: deriveSeed(p.seed, 200), signal });
  model.dispose();
  const image = (v: ArrayLike<number>): number[] => {
    let lo = Infinity, hi = -Infinity;
    for (let j = 0; j < v.length; j++) { lo = Math.min(lo, v[j]); hi = Math.max(hi, v[j]); }
    return Array.from(v, (a) => (hi > lo ? (a - lo) / (hi - lo) : 0));
  };
  return {
    kind: 'mnist',
    basis: dae.bases.map((U) => Array.from({ length: Math.min(U.cols, 6) }, (_, c) =>
      image(Array.from({ length: pixels }, (_, j) => U.data[j * U.cols + c])))),
    generated: Array.from({ length: gen.rows }, (_, i) => image(gen.data.subarray(i * pixels, (i + 1) * pixels))),
    ms: performance.now() - t0,
  };
}
