/**
 * Long runs (issue 7): memory over 10^5 kernel calls and 10^4-step trainings. Writes
 * bench/results/soak.json and prints start / peak / end and the slope of resident memory (RSS), V8
 * heap used, ArrayBuffer memory and the wasm linear memory.
 *
 *   npm run soak                                   # 10^5 calls, 10^4 steps per training
 *   MOLRG_SOAK_CALLS=20000 MOLRG_SOAK_STEPS=2000 npm run soak   # shorter
 *
 * Calls: every kernel, round robin over native (sync, and the Promise forms where they exist) and
 * wasm, all through the checked facade (backendKernels); bases are also created and disposed every
 * 100 calls. Trainings: trainDAE (the public API) on the native and the wasm backend. The slope is a
 * least-squares fit over the second half of the samples (after warm-up), in bytes per 1000 calls or
 * steps: a leak of one small buffer per call would show as kilobytes per 1000 calls.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendKernels, registerBackend, setBackend } from '../src/backend/index.js';
import type { Bases, Kernels } from '../src/backend/types.js';
import { readWasmFile, wasmKernels, wasmSimdSupported } from '../src/backend/wasm.js';
import { stack } from '../src/matrix.js';
import { MoLRG } from '../src/model/molrg.js';
import { gaussian } from '../src/random.js';
import { trainDAE } from '../src/train/dae.js';

const CALLS = Number(process.env.MOLRG_SOAK_CALLS ?? 100_000);
const STEPS = Number(process.env.MOLRG_SOAK_STEPS ?? 10_000);

// The wasm backend from our own instance, so that its linear memory can be watched (the project
// compiles without the DOM lib, hence the local type of the WebAssembly API).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: { readonly memory: { readonly buffer: ArrayBuffer } } };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const simd = wasmSimdSupported();
const instance = new WA.Instance(new WA.Module(readWasmFile(simd)), {
  env: { abort: () => { throw new Error('wasm backend aborted'); } },
});
const wasmMemory = instance.exports.memory;
registerBackend('wasm', () => wasmKernels(instance.exports, simd));

interface Sample { at: number; rss: number; heapUsed: number; arrayBuffers: number; wasm: number }

/** Run with --expose-gc (npm run soak does) to sample live memory after a full collection. */
const gc = (globalThis as { gc?: () => void }).gc;

function sample(at: number): Sample {
  gc?.();
  const m = process.memoryUsage();
  return { at, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, wasm: wasmMemory.buffer.byteLength };
}

type Metric = Exclude<keyof Sample, 'at'>;
const METRICS: Metric[] = ['rss', 'heapUsed', 'arrayBuffers', 'wasm'];

/** start / peak / end (MiB) and the least-squares slope over the second half (bytes per 1000 units). */
function summary(samples: Sample[]) {
  const out: Record<string, { startMiB: number; peakMiB: number; endMiB: number; slopeBytesPer1000: number }> = {};
  const tail = samples.slice(Math.floor(samples.length / 2));
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  for (const k of METRICS) {
    const xs = tail.map((s) => s.at), ys = tail.map((s) => s[k]);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
    out[k] = {
      startMiB: mib(samples[0][k]),
      peakMiB: mib(Math.max(...samples.map((s) => s[k]))),
      endMiB: mib(samples[samples.length - 1][k]),
      slopeBytesPer1000: sxx > 0 ? Math.round((sxy / sxx) * 1000) : 0,
    };
  }
  return out;
}

/** One soak workload on a backend: a list of calls (each returns a Promise or nothing). */
function workload(k: Kernels, asyncForms: boolean): ((i: number) => void | Promise<unknown>)[] {
  const n = 48, dims = Int32Array.from([6, 6]), K = 2, D = 12, B = 64;
  const truth = new MoLRG({ n, K, d: 6, seed: 1 });
  const U = stack(truth.bases);
  let bases: Bases = k.createBases(n, dims, U);
  const prior = { logPi: Float64Array.from([Math.log(0.5), Math.log(0.5)]), lambda: Float64Array.from([1, 1]), delta: 0 };
  const x = gaussian(B * n, 1, 0), eps = gaussian(B * n, 2, 0), out = new Float32Array(B * n), P = new Float32Array(B * D);
  const s = new Float32Array(B).fill(1), sigma = new Float32Array(B).fill(0.5), weight = new Float32Array(B).fill(1 / B);
  const w = new Float32Array(B * K), bias = new Float64Array(B * K), phi = new Float64Array(B * K).fill(0.1);
  const A = gaussian(64 * 64, 3, 0), Bm = gaussian(64 * 64, 4, 0), C = new Float32Array(64 * 64);
  const S = gaussian(3 * 32 * 16, 5, 0), Us = new Float32Array(3 * 32 * 4), Ss = new Float32Array(3 * 4), Vs = new Float32Array(3 * 16 * 4);
  const E = gaussian(2 * 16 * 16, 6, 0), ev = new Float32Array(2 * 16), evec = new Float32Array(2 * 16 * 16);
  const q = gaussian(64 * 16, 7, 0), refs = gaussian(256 * 16, 8, 0), index = new Int32Array(64), dist = new Float32Array(64);
  const words = new Uint32Array(4096), floats = new Float32Array(4096), counters = new Uint32Array(64), key = Uint32Array.from([1, 2]);
  const adam = { method: 'adam', lr: 1e-3, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, retraction: 'qr' } as const;
  const calls: ((i: number) => void | Promise<unknown>)[] = [
    () => k.gemm(false, true, 64, 64, 64, 1, A, Bm, 0, C),
    () => k.svd(S, 3, 32, 16, 4, Us, Ss, Vs),
    () => k.eigh(E, 2, 16, ev, evec),
    () => k.nearest(q, 64, refs, 256, 16, index, dist),
    () => k.project(x, B, bases, P),
    () => k.gate(P, B, dims, bias, phi, w),
    () => k.denoise(x, B, bases, prior, s, sigma, out, w),
    () => k.lossGrad(x, eps, B, s, sigma, weight, bases, prior),
    () => k.stiefelStep(bases, adam),
    () => k.retract(bases, 'polar'),
    (i) => k.philox(counters, key, new Uint32Array(64).fill(i)),
    (i) => k.randomU32(words, 7, 1, i * 4096),
    (i) => k.normals(floats, 7, 2, i * 4096),
    (i) => k.uniforms(floats, 7, 3, i * 4096),
    (i) => {  // bases come and go (wasm: allocated in linear memory and freed)
      if (i % 100 === 0) { bases.dispose(); bases = k.createBases(n, dims, U); }
    },
  ];
  if (asyncForms) {
    calls.push(
      () => k.async.gemm(false, true, 64, 64, 64, 1, A, Bm, 0, C),
      () => k.async.svd(S, 3, 32, 16, 4, Us, Ss, Vs),
      () => k.async.eigh(E, 2, 16, ev, evec),
      () => k.async.nearest(q, 64, refs, 256, 16, index, dist),
      () => k.async.denoise(x, B, bases, prior, s, sigma, out, w),
      () => k.async.lossGrad(x, eps, B, s, sigma, weight, bases, prior),
    );
  }
  return calls;
}

async function kernelSoak() {
  const all: ((i: number) => void | Promise<unknown>)[] = [];
  const labels: string[] = [];
  for (const name of ['native', 'wasm'] as const) {
    let k: Kernels;
    try { k = backendKernels(name); } catch (e) { console.warn(`${name}: skipped (${(e as Error).message})`); continue; }
    const w = workload(k, name === 'native');
    all.push(...w);
    labels.push(`${name} (${w.length} kinds of call)`);
  }
  const every = Math.max(1, Math.floor(CALLS / 200));
  const samples: Sample[] = [sample(0)];
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const r = all[i % all.length](Math.floor(i / all.length));
    if (r) await r;
    if ((i + 1) % every === 0) samples.push(sample(i + 1));
  }
  return { calls: CALLS, backends: labels, seconds: Math.round((performance.now() - t0) / 100) / 10, memory: summary(samples), samples };
}

async function trainingSoak(backend: 'native' | 'wasm') {
  setBackend(backend);
  const truth = new MoLRG({ n: 48, K: 2, d: 6, seed: 2 });
  const { x } = truth.sample(2000, 3);
  const samples: Sample[] = [sample(0)];
  const t0 = performance.now();
  await trainDAE(x, { K: 2, d: 6, steps: STEPS, batch: 64, init: 'random', seed: 4, logEvery: Math.max(1, Math.floor(STEPS / 200)),
    onProgress: (p) => { samples.push(sample(p.step)); } });
  return { backend, steps: STEPS, seconds: Math.round((performance.now() - t0) / 100) / 10, memory: summary(samples), samples };
}

async function main() {
  console.log(`soak: ${CALLS} kernel calls, then ${STEPS}-step trainings (native, wasm)`);
  const kernels = await kernelSoak();
  const training = [];
  for (const b of ['native', 'wasm'] as const) {
    try { training.push(await trainingSoak(b)); } catch (e) { console.warn(`training on ${b}: skipped (${(e as Error).message})`); }
  }
  const report = { date: new Date().toISOString(), node: process.version, kernels, training };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'soak.json'), JSON.stringify(report, null, 1) + '\n');
  const show = (label: string, m: ReturnType<typeof summary>, unit: string) => {
    console.log(label);
    for (const [k, v] of Object.entries(m)) {
      console.log(`  ${k.padEnd(12)} start ${v.startMiB} MiB, peak ${v.peakMiB} MiB, end ${v.endMiB} MiB, slope ${v.slopeBytesPer1000} B per 1000 ${unit}`);
    }
  };
  show(`kernel calls: ${kernels.calls} in ${kernels.seconds} s over ${kernels.backends.join(', ')}`, kernels.memory, 'calls');
  for (const t of training) show(`trainDAE on ${t.backend}: ${t.steps} steps in ${t.seconds} s`, t.memory, 'steps');
  console.log(`written ${join(dir, 'soak.json')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
