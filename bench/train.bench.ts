/**
 * Training and clustering benchmarks (issues 3 and 6): `trainDAE` steps per second and `kSubspaces`
 * time on the small config (n = 48, K = 2, d = 6) and on 5000 x 784 digits with K = 10, d = 10 (the
 * `mnist` package when installed, else synthetic 784-dim MoLRG data), and the issue-6 workloads
 * W1 (one training step, n = 48, K = 2, d = 4, B = 128), W2 (the same at n = 784, K = 10, d = 16,
 * B = 512), W3 (Heun, 18 steps, 2000 samples, exact denoiser, W2's model) and W6 (phase-diagram cells,
 * K = 2, n = 48, 2000 steps, timed on a sample of 8 of the 720 cells), on every backend that loads.
 * Step times are the difference of two training lengths (so initialisation and evaluation cancel),
 * with wall time and this process's CPU time (the honest figure on a shared machine). Timing notes,
 * never assertions; writes bench/results/train.json.
 *
 *   npx tsx bench/train.bench.ts             # everything
 *   MOLRG_BENCH_QUICK=1 npx tsx bench/train.bench.ts   # small configs only
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendInfo, setBackend } from '../src/backend/index.js';
import { hasDigits, loadDigits } from '../src/experiments/digits.js';
import { preprocess } from '../src/experiments/preprocess.js';
import { matrix, type Matrix } from '../src/matrix.js';
import { clusteringAccuracy } from '../src/metrics/clustering.js';
import { phaseCell } from '../src/experiments/cells.js';
import { exactDenoiser } from '../src/model/exact.js';
import { MoLRG } from '../src/model/molrg.js';
import { sample } from '../src/sample/edm.js';
import { trainDAESync } from '../src/train/dae.js';
import { kSubspacesSync } from '../src/train/kss.js';
import { spectralClustering } from '../src/train/spectral.js';

const quick = process.env.MOLRG_BENCH_QUICK === '1';

interface Row { backend: string; case: string; ms: number; rate?: string; note?: string }
const rows: Row[] = [];

/** Median wall time of `reps` runs, milliseconds (after one warm-up run). */
function time(reps: number, f: () => void): number {
  f();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[reps >> 1];
}

/** Median over `reps` of the wall and CPU time per unit of `f(units)` minus `f(0)`-like fixed costs, microseconds. */
function perStep(reps: number, steps: number, f: (steps: number) => void): { wall: number; cpu: number } {
  f(steps);
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t: number[] = [], c: number[] = [];
    for (const k of [1, 2]) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      f(k * steps);
      const dc = process.cpuUsage(c0);
      t.push(performance.now() - t0);
      c.push((dc.user + dc.system) / 1000);
    }
    wall.push(((t[1] - t[0]) * 1000) / steps);
    cpu.push(((c[1] - c[0]) * 1000) / steps);
  }
  const median = (a: number[]): number => a.sort((x, y) => x - y)[a.length >> 1];
  return { wall: median(wall), cpu: median(cpu) };
}

/** The issue-6 workloads W1, W2, W3, W6 on the active backend. */
function issue6(label: string, name: string): void {
  const w1 = new MoLRG({ n: 48, K: 2, d: 4, seed: 1 }).sample(40, 2).x;
  const small = name === 'js' ? 100 : 1000;
  const t1 = perStep(5, small, (steps) => trainDAESync(w1, { K: 2, d: 4, init: 'random', steps, batch: 128, evalSize: 1 }));
  rows.push({ backend: label, case: 'W1 train step n=48 K=2 d=4 B=128', ms: t1.wall / 1000, note: `cpu ${t1.cpu.toFixed(1)} us/step` });
  if (quick || name === 'js') return;
  const big = new MoLRG({ n: 784, K: 10, d: 16, seed: 1 });
  const w2 = big.sample(2000, 2).x;
  const t2 = perStep(3, 10, (steps) => trainDAESync(w2, { K: 10, d: 16, init: 'random', steps, batch: 512, evalSize: 1 }));
  rows.push({ backend: label, case: 'W2 train step n=784 K=10 d=16 B=512', ms: t2.wall / 1000, note: `cpu ${(t2.cpu / 1000).toFixed(2)} ms/step` });
  const den = exactDenoiser(big);
  const c0 = process.cpuUsage();
  const w3 = time(3, () => { sample(den, { count: 2000, steps: 18, sampler: 'heun', seed: 1 }); });
  const c3 = process.cpuUsage(c0);
  rows.push({ backend: label, case: 'W3 Heun 18 steps, 2000 samples, exact denoiser n=784 K=10 d=16', ms: w3, note: `cpu ${((c3.user + c3.system) / 4000).toFixed(0)} ms/run` });
  den.dispose();
  const cells = [[1, 4], [2, 60], [4, 20], [5, 8], [8, 40], [9, 12], [11, 80], [12, 24]];
  const c6 = process.cpuUsage();
  const w6 = time(1, () => { for (const [d, N] of cells) phaseCell({ K: 2, n: 48, d, N, methods: ['dae'], dae: { steps: 2000 } }, 100 * d + N); }) / cells.length;
  const d6 = process.cpuUsage(c6), cpu6 = (d6.user + d6.system) / 1000 / (2 * cells.length);
  rows.push({ backend: label, case: 'W6 phase cell K=2 n=48 2000 steps (mean of 8 cells)', ms: w6, note: `cpu ${cpu6.toFixed(1)} ms/cell; 720 cells on 2 workers ~ ${((720 * cpu6) / 2000).toFixed(1)} s of CPU per core` });
}

/** 5000 digits (normalised rows) and their labels, or synthetic 784-dim MoLRG data. */
function bigData(): { x: Matrix; labels: Int32Array; source: string } {
  const N = 5000;
  if (hasDigits()) {
    const all = loadDigits();
    const idx = Array.from({ length: N }, (_, i) => 2 * i);
    const data = new Float32Array(N * 784);
    idx.forEach((j, i) => data.set(all.images.data.subarray(j * 784, (j + 1) * 784), i * 784));
    return { x: preprocess(matrix(N, 784, data), 'normalize'), labels: Int32Array.from(idx, (j) => all.labels[j]), source: 'MNIST (every 2nd of 10,000, unit-norm rows)' };
  }
  const { x, labels } = new MoLRG({ n: 784, K: 10, d: 10, seed: 1, delta: 0.05 }).sample(N, 2);
  return { x, labels, source: 'synthetic MoLRG n = 784, K = 10, d = 10, delta = 0.05' };
}

for (const name of ['native', 'wasm', 'js'] as const) {
  try {
    setBackend(name);
  } catch (e) {
    console.warn(`${name}: not benchmarked (${(e as Error).message})`);
    continue;
  }
  const label = `${name} (${backendInfo().isa}, ${backendInfo().threads} threads)`;
  issue6(label, name);
  const model = new MoLRG({ n: 48, K: 2, d: 6, seed: 1 });
  const { x } = model.sample(24, 2);
  const steps = name === 'js' ? 200 : 2000;
  const train = time(3, () => trainDAESync(x, { K: 2, d: 6, init: 'random', steps, batch: 64 }));
  rows.push({ backend: label, case: 'trainDAE n=48 K=2 d=6 B=64', ms: train / steps, rate: `${Math.round((steps / train) * 1000)} steps/s` });
  const kss = time(10, () => kSubspacesSync(x, { K: 2, d: 6, seed: 1 }));
  rows.push({ backend: label, case: 'kSubspaces n=48 K=2 d=6 N=24 (spectral + 3 residual restarts)', ms: kss });
  if (!quick && name !== 'js') {
    const big = bigData();
    let labels: Int32Array = new Int32Array(0);
    const tsc = time(1, () => { labels = spectralClustering(big.x, { K: 10, seed: 1 }); });
    rows.push({ backend: label, case: '5000x784 K=10 spectral (TSC) labels', ms: tsc, note: `${big.source}; accuracy ${clusteringAccuracy(labels, big.labels).toFixed(3)}` });
    let r = kSubspacesSync(big.x, { K: 10, d: 10, restarts: 1, seed: 1 });
    const kssBig = time(1, () => { r = kSubspacesSync(big.x, { K: 10, d: 10, restarts: 1, seed: 1 }); });
    rows.push({ backend: label, case: '5000x784 K=10 d=10 kSubspaces (spectral init + refinement, 1 restart)', ms: kssBig, note: `${r.iterations} iterations; accuracy ${clusteringAccuracy(r.labels, big.labels).toFixed(3)}` });
  }
}

for (const r of rows) console.log(`${r.backend.padEnd(28)} ${r.case.padEnd(72)} ${r.ms.toFixed(3).padStart(10)} ms ${r.rate ?? ''} ${r.note ?? ''}`);
const dir = join(__dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'train.json'), `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
