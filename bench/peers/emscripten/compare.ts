/**
 * AssemblyScript vs emscripten on the same kernels (issue 6): the wasm backend (wasm/assembly, v128),
 * the emscripten builds of native/kernels (load.ts) and the native addon on one thread, interleaved
 * round by round in one process; prints the median (and minimum) time per call and GFLOP/s of every
 * case, and the ratio AssemblyScript / emscripten simd (> 1: emscripten faster).
 *
 *   npx tsx bench/peers/emscripten/compare.ts [--rounds 9] [--filter svd] [--only 'emcc simd']
 *
 * `--calls N` runs each selected case N times after one warm-up call, untimed, for instruction counts
 * that the machine's load does not disturb (the difference of two runs is N2 - N1 calls):
 *   valgrind --tool=callgrind --smc-check=all node --no-liftoff --single-threaded --import tsx \
 *     bench/peers/emscripten/compare.ts --only 'AS simd' --filter 'gemm 512x512' --calls 2
 *
 * Needs the emscripten build (node bench/peers/emscripten/build.mjs); writes nothing.
 */
import { loadNative, setNativeThreads } from '../../../src/backend/native.js';
import type { Bases, Kernels, StiefelOptions } from '../../../src/backend/types.js';
import { loadWasm } from '../../../src/backend/wasm.js';
import { prior, randn, randomBases } from '../../../test/util.js';
import { EMSCRIPTEN_BUILDS, loadEmscripten } from './load.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const rounds = Number(arg('rounds', '9'));
const filter = arg('filter', '');
const only = arg('only', '');
const untimedCalls = Number(arg('calls', '0'));
/** Target wall time of one timed batch of calls. */
const BATCH_MS = 60;

interface Contender { label: string; k: Kernels }
const contenders: Contender[] = [{ label: 'AS simd', k: loadWasm({ simd: true }) }];
for (const build of EMSCRIPTEN_BUILDS) {
  const k = loadEmscripten(build);
  if (k === null) {
    console.error('The emscripten build is missing: run node bench/peers/emscripten/build.mjs');
    process.exit(1);
  }
  contenders.push({ label: `emcc ${build}`, k });
}
try {
  contenders.push({ label: 'native 1 thr', k: loadNative() });
  setNativeThreads(1);
} catch (e) {
  console.warn(`native not measured: ${(e as Error).message}`);
}
const selected = contenders.filter((c) => c.label.includes(only));

/** A case: flops per call (or null) and, per contender, a prepared call. */
interface Case { name: string; flops: number | null; make(k: Kernels): () => void }

const ADAM: StiefelOptions = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' };

function modelCases(n: number, K: number, d: number, B: number): Case[] {
  const tag = `n=${n},K=${K},d=${d},B=${B}`;
  const dims = Int32Array.from({ length: K }, () => d), D = K * d;
  const U = randomBases(n, Array(K).fill(d), 1);
  const p = prior(K);
  const x = randn(B * n, 2), eps = randn(B * n, 3);
  const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).map((_, i) => Math.exp(-1.2 + 1.2 * Math.sin(i)));
  const weight = sigma.map((sg) => (sg * sg + 1) / (sg * sg));
  const gemmFlops = 2 * B * n * D;
  const withBases = (fn: (k: Kernels, bases: Bases) => () => void) =>
    (k: Kernels) => fn(k, k.createBases(n, dims, U));
  return [
    { name: `project ${tag}`, flops: gemmFlops, make: withBases((k, b) => { const P = new Float32Array(B * D); return () => k.project(x, B, b, P); }) },
    { name: `denoise ${tag}`, flops: 2 * gemmFlops, make: withBases((k, b) => { const o = new Float32Array(B * n); return () => k.denoise(x, B, b, p, s, sigma, o); }) },
    { name: `lossGrad ${tag}`, flops: 5 * gemmFlops, make: withBases((k, b) => () => { k.lossGrad(x, eps, B, s, sigma, weight, b, p); }) },
    { name: `stiefelStep adam ${tag}`, flops: null, make: withBases((k, b) => { k.lossGrad(x, eps, B, s, sigma, weight, b, p); return () => k.stiefelStep(b, ADAM); }) },
  ];
}

/**
 * SVD of `batch` matrices [m, n]: Gaussian (`rank` 0), or as issue 6's W5 of rank `rank` plus Gaussian
 * noise of relative size 1e-2 (a cluster's data, where the randomized path of both kernels converges).
 */
function svdCase(name: string, batch: number, m: number, n: number, r: number, rank = 0): Case {
  const A = randn(batch * m * n, 7);
  if (rank > 0) {
    const L = randn(m * rank, 8), R = randn(n * rank, 9);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let t = 0;
        for (let q = 0; q < rank; q++) t += L[i * rank + q] * R[j * rank + q];
        A[i * n + j] = t + 1e-2 * Math.sqrt(rank) * A[i * n + j];
      }
    }
  }
  return {
    name, flops: null,
    make: (k) => {
      const U = new Float32Array(batch * m * r), S = new Float32Array(batch * r), V = new Float32Array(batch * n * r);
      return () => k.svd(A, batch, m, n, r, U, S, V);
    },
  };
}

function gemmCase(m: number, n: number, k: number): Case {
  const A = randn(m * k, 5), B = randn(k * n, 6);
  return {
    name: `gemm ${m}x${n}x${k}`, flops: 2 * m * n * k,
    make: (kk) => { const C = new Float32Array(m * n); return () => kk.gemm(false, false, m, n, k, 1, A, B, 0, C); },
  };
}

const cases: Case[] = [
  ...modelCases(784, 10, 16, 512),
  ...modelCases(48, 2, 4, 128),
  gemmCase(512, 512, 512),
  gemmCase(512, 160, 784),
  svdCase('svd 256 x (32x32), full', 256, 32, 32, 32),
  svdCase('svd top-16 of 784x600 (rank 16 + 1e-2 noise)', 1, 784, 600, 16, 16),
].filter((c) => c.name.includes(filter));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

if (untimedCalls > 0) {
  for (const c of cases) {
    for (const ct of selected) {
      const call = c.make(ct.k);
      for (let i = 0; i <= untimedCalls; i++) call();
    }
  }
  process.exit(0);
}

console.log(`${new Date().toISOString()}  rounds=${rounds}  (median ms per call; GFLOP/s; AS/emcc > 1 means emscripten is faster)`);
const header = ['case', ...selected.map((c) => c.label), 'AS/emcc simd'];
console.log(header.join(' | '));
for (const c of cases) {
  const calls = selected.map((ct) => c.make(ct.k));
  // Warm up, and size each contender's batch to about BATCH_MS.
  const reps = calls.map((call) => {
    call();
    const t0 = now();
    let r = 0;
    while (now() - t0 < BATCH_MS / 4) { call(); r++; }
    return Math.max(1, Math.round((r * BATCH_MS) / (now() - t0)));
  });
  const times: number[][] = selected.map(() => []);
  for (let round = 0; round < rounds; round++) {
    calls.forEach((call, i) => {
      const t0 = now();
      for (let r = 0; r < reps[i]; r++) call();
      times[i].push((now() - t0) / reps[i]);
    });
  }
  const med = times.map(median), best = times.map((t) => Math.min(...t));
  const cell = (ms: number, i: number) => {
    const gf = c.flops === null ? '' : ` ${(c.flops / (ms * 1e6)).toFixed(1)} GF/s`;
    return `${ms.toFixed(3)} ms${gf} (min ${best[i].toFixed(3)})`;
  };
  const as = selected.findIndex((ct) => ct.label === 'AS simd'), em = selected.findIndex((ct) => ct.label === 'emcc simd');
  const ratio = as < 0 || em < 0 ? '-' : `${(med[as] / med[em]).toFixed(2)} (min ${(best[as] / best[em]).toFixed(2)})`;
  console.log([c.name, ...med.map(cell), ratio].join(' | '));
}
