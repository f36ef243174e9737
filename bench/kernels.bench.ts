/**
 * Kernel benchmarks (issue 2): every kernel on every backend at the small (n=48, K=2, d=4, B=128)
 * and large (n=784, K=10, d=16, B=512) configurations, plus batched SVDs. Prints time per call and
 * GFLOP/s, writes bench/results/kernels.json (and benny's per-suite JSON).
 *
 *   npm run bench                      # everything
 *   npm run bench -- --filter svd      # suites whose name contains "svd"
 *   MOLRG_BENCH_QUICK=1 npm run bench  # one short sample per case (smoke run)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import b from 'benny';
import { backendKernels } from '../src/backend/index.js';
import { setNativeThreads } from '../src/backend/native.js';
import type { Kernels, StiefelOptions } from '../src/backend/types.js';
import { randn, randomBases, prior } from '../test/util.js';
import { lowRankPlusNoise, subspaceError } from './peers/data.js';

const quick = process.env.MOLRG_BENCH_QUICK === '1';
const filterAt = process.argv.indexOf('--filter');
const filter = filterAt > 0 ? process.argv[filterAt + 1] : '';
const caseOptions = quick ? { minSamples: 1, maxTime: 0.05, delay: 0 } : { minSamples: 5, maxTime: 1.5, delay: 0.05 };
const resultsDir = join(__dirname, 'results');

interface Row { suite: string; backend: string; kernel: string; ms: number; gflops: number | null; note?: string }
const rows: Row[] = [];

interface Backend { label: string; kernels: Kernels; threads?: number }

function backends(includeJs: boolean): Backend[] {
  const out: Backend[] = [];
  try {
    const native = backendKernels('native', { checked: false });
    out.push({ label: `native (${native.info().isa}, ${native.info().threads} threads)`, kernels: native, threads: native.info().threads });
    out.push({ label: `native (${native.info().isa}, 1 thread)`, kernels: native, threads: 1 });
  } catch (e) {
    console.warn(`native backend not benchmarked: ${(e as Error).message}`);
  }
  try {
    out.push({ label: 'wasm (simd128)', kernels: backendKernels('wasm', { checked: false }) });
  } catch (e) {
    console.warn(`wasm backend not benchmarked: ${(e as Error).message}`);
  }
  if (includeJs) out.push({ label: 'js (float64)', kernels: backendKernels('js', { checked: false }) });
  return out;
}

/** One benny suite; `cases` maps a case name to [flops per call or null, function]. */
async function suite(name: string, cases: Record<string, [number | null, () => void]>, backend: Backend): Promise<void> {
  if (filter && !name.includes(filter)) return;
  if (backend.threads !== undefined) setNativeThreads(backend.threads);
  const title = `${name} on ${backend.label}`;
  const summary = await b.suite(
    title,
    ...Object.entries(cases).map(([k, [, fn]]) => b.add(k, fn, caseOptions)),
    b.cycle(),
    b.complete(),
    b.save({ file: title.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), folder: join(resultsDir, 'benny'), format: 'json' }),
  );
  for (const r of summary.results) {
    // benchmark.js reports seconds per call as the mean; ops can round to 0 for slow cases.
    const ms = r.details.mean > 0 ? r.details.mean * 1000 : 1000 / r.ops;
    const flops = cases[r.name][0];
    rows.push({ suite: name, backend: backend.label, kernel: r.name, ms, gflops: flops === null ? null : flops / (ms * 1e6) });
  }
}

const ADAM: StiefelOptions = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' };

async function modelSuite(label: string, n: number, K: number, d: number, B: number, backend: Backend): Promise<void> {
  const k = backend.kernels;
  const dims = Int32Array.from({ length: K }, () => d), D = K * d;
  const U = randomBases(n, Array(K).fill(d), 1);
  const bases = k.createBases(n, dims, U);
  const p = prior(K);
  const x = randn(B * n, 2), eps = randn(B * n, 3);
  const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).map((_, i) => Math.exp(-1.2 + 1.2 * Math.sin(i)));
  const weight = sigma.map((sg) => (sg * sg + 1) / (sg * sg));
  const P = new Float32Array(B * D), out = new Float32Array(B * n), z = new Float32Array(B * n);
  const refs = randn(1000 * n, 4), idx = new Int32Array(B), dist = new Float32Array(B);
  const gemmFlops = 2 * B * n * D;
  const stiefelFlops = 8 * n * D * d + 10 * n * D;
  k.lossGrad(x, eps, B, s, sigma, weight, bases, p);
  await suite(`${label} (n=${n}, K=${K}, d=${d}, B=${B})`, {
    normals: [null, () => k.normals(z, 1, 2, 0)],
    project: [gemmFlops, () => k.project(x, B, bases, P)],
    denoise: [2 * gemmFlops, () => k.denoise(x, B, bases, p, s, sigma, out)],
    lossGrad: [5 * gemmFlops, () => { k.lossGrad(x, eps, B, s, sigma, weight, bases, p); }],
    stiefelStep: [stiefelFlops, () => { bases.write(U); k.stiefelStep(bases, ADAM); }],
    'lossGrad + stiefelStep': [5 * gemmFlops + stiefelFlops, () => { k.lossGrad(x, eps, B, s, sigma, weight, bases, p); k.stiefelStep(bases, ADAM); }],
    'nearest (1000 refs)': [2 * B * 1000 * n, () => k.nearest(x, B, refs, 1000, n, idx, dist)],
  }, backend);
  bases.dispose();
}

/** Top-r left singular subspace of one float32 matrix in float64 by numpy (null when absent). */
function numpyTopSubspace(A: Float32Array, m: number, n: number, r: number): Float64Array | null {
  const dir = join(tmpdir(), `molrg-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'a.f32'), Buffer.from(A.buffer, A.byteOffset, A.byteLength));
    const py = `import numpy as np\nA=np.fromfile('${join(dir, 'a.f32')}',dtype=np.float32).astype(np.float64).reshape(${m},${n})\nU=np.linalg.svd(A,full_matrices=False)[0][:,:${r}]\nU.tofile('${join(dir, 'u.f64')}')`;
    execFileSync('python3', ['-c', py], { stdio: 'pipe' });
    const buf = readFileSync(join(dir, 'u.f64'));
    return new Float64Array(buf.buffer, buf.byteOffset, m * r);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function svdSuites(backend: Backend): Promise<void> {
  const k = backend.kernels;
  const small = randn(256 * 32 * 32, 7);
  const U1 = new Float32Array(256 * 32 * 32), S1 = new Float32Array(256 * 32), V1 = new Float32Array(256 * 32 * 32);
  const m = 784, n = 600, r = 16, batch = 10;
  const big = lowRankPlusNoise(batch, m, n, r, 1e-2, 100);
  const U2 = new Float32Array(batch * m * r), S2 = new Float32Array(batch * r), V2 = new Float32Array(batch * n * r);
  const cases: Record<string, [number | null, () => void]> = {
    'svd 256 x (32x32), full': [null, () => k.svd(small, 256, 32, 32, 32, U1, S1, V1)],
  };
  if (!backend.label.startsWith('js')) cases['svd top-16 of 10 x (784x600)'] = [null, () => k.svd(big, batch, m, n, r, U2, S2, V2)];
  await suite('svdBatched', cases, backend);
  if (cases['svd top-16 of 10 x (784x600)'] && (!filter || 'svdBatched'.includes(filter))) {
    k.svd(big, batch, m, n, r, U2, S2, V2);
    const ref = numpyTopSubspace(big.subarray(0, m * n), m, n, r);
    const note = ref ? `subspace error vs float64 SVD: ${subspaceError(U2.subarray(0, m * r), ref, m, r).toExponential(2)}` : 'numpy not available: subspace error not measured';
    rows.push({ suite: 'svdBatched', backend: backend.label, kernel: 'top-16 accuracy', ms: NaN, gflops: null, note });
  }
}

async function main(): Promise<void> {
  rmSync(join(resultsDir, 'benny'), { recursive: true, force: true });
  for (const backend of backends(true)) {
    await modelSuite('small', 48, 2, 4, 128, backend);
    if (!backend.label.startsWith('js')) await modelSuite('large', 784, 10, 16, 512, backend);
    await svdSuites(backend);
  }
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\nmachine: ${machine}\n`);
  console.log('| suite | backend | kernel | ms / call | GFLOP/s |');
  console.log('|---|---|---|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.suite} | ${r.backend} | ${r.kernel} | ${Number.isNaN(r.ms) ? '' : r.ms.toFixed(3)} | ${r.gflops === null ? (r.note ?? '') : r.gflops.toFixed(1)} |`);
  }
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'kernels.json'), JSON.stringify({ date: new Date().toISOString(), machine, quick, rows }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
