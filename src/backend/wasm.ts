/**
 * The `wasm` backend: the AssemblyScript kernels of wasm/assembly/ (v128 SIMD build, or the scalar
 * build where SIMD is unavailable) behind the `Kernels` contract.
 *
 * Memory: the bases (U, its gradient and the optimiser moments) live in wasm linear memory for their
 * whole life, so training and sampling never copy the model across the boundary. Per-call inputs and
 * outputs go through one persistent scratch arena that grows on demand. Any allocation (ours, or the
 * kernels' own work buffers) may grow the memory, which detaches every typed-array view of the old
 * buffer, so views are re-derived from `memory.buffer` each time they are used.
 *
 * `instantiateWasm` uses no Node built-ins (browser entry points use it with fetched bytes);
 * `loadWasm` adds the Node-only part: finding and reading the .wasm file of this package.
 */
import type {
  AsyncKernels, Bases, KernelInfo, Kernels, Prior, StiefelOptions,
} from './types.js';

/**
 * The part of the WebAssembly JS API used here. Declared locally because the project compiles without
 * the DOM lib (and @types/node does not declare the `WebAssembly` namespace).
 */
interface WasmMemory { readonly buffer: ArrayBuffer }
/** A compiled module (WebAssembly.Module). */
export interface WasmModule { readonly __wasmModule?: never }
interface WasmApi {
  Module: new (bytes: ArrayBuffer | ArrayBufferView) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  validate(bytes: ArrayBuffer | ArrayBufferView): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The raw exports of wasm/assembly/index.ts. Pointers are byte offsets (returned signed: `>>> 0`). */
interface WasmExports {
  readonly memory: WasmMemory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  simd(): number;
  philox(counters: number, M: number, k0: number, k1: number, out: number): void;
  randomU32(out: number, count: number, seed: number, stream: number, offset: number): void;
  normals(out: number, count: number, seed: number, stream: number, offset: number): void;
  uniforms(out: number, count: number, seed: number, stream: number, offset: number): void;
  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number, A: number, B: number,
       beta: number, C: number): void;
  svd(A: number, batch: number, m: number, n: number, r: number, U: number, S: number, V: number): void;
  eigh(A: number, batch: number, n: number, values: number, vectors: number): void;
  nearest(queries: number, M: number, refs: number, N: number, n: number, index: number, dist: number): void;
  project(x: number, B: number, n: number, U: number, D: number, P: number): void;
  gate(P: number, B: number, D: number, dims: number, K: number, bias: number, phi: number, w: number): void;
  denoise(x: number, B: number, n: number, U: number, D: number, dims: number, K: number, logPi: number,
          lambda: number, delta: number, s: number, sigma: number, out: number, w: number): void;
  lossGrad(x0: number, eps: number, B: number, n: number, s: number, sigma: number, weight: number, U: number,
           D: number, dims: number, K: number, logPi: number, lambda: number, delta: number, G: number): number;
  stiefelStep(U: number, G: number, M: number, V: number, n: number, D: number, dims: number, K: number,
              method: number, lr: number, momentum: number, beta1: number, beta2: number, eps: number, t: number,
              retraction: number): void;
  trainSteps(x0: number, eps: number, B: number, T: number, n: number, s: number, sigma: number, weight: number,
             U: number, G: number, M: number, V: number, D: number, dims: number, K: number, logPi: number,
             lambda: number, delta: number, method: number, momentum: number, beta1: number, beta2: number,
             adamEps: number, t: number, retraction: number, lr: number, losses: number): number;
  retract(U: number, n: number, D: number, dims: number, K: number, method: number): void;
}

/** The smallest module using a v128 instruction (from wasm-feature-detect): valid iff SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Whether this engine supports WebAssembly SIMD (v128). */
export function wasmSimdSupported(): boolean {
  return WA.validate(SIMD_PROBE);
}

/** File name of a build under wasm/dist/. */
export function wasmFileName(simd: boolean): string {
  return simd ? 'molrg.simd.wasm' : 'molrg.scalar.wasm';
}

/**
 * Node only: the bytes of wasm/dist/<build> of this package, found by walking up from this file to the
 * package root (works from src/ under tsx and from dist/ after tsc).
 */
export function readWasmFile(simd: boolean): Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  const file = wasmFileName(simd);
  const tried: string[] = [];
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const candidate = path.join(dir, 'wasm', 'dist', file);
      tried.push(candidate);
      if (fs.existsSync(candidate)) return fs.readFileSync(candidate);
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`The wasm backend needs ${file}, which was not found (looked for ${tried.join(', ') || 'a package root'}); run \`npm run build:wasm\``);
}

/** Node: load the SIMD build when the engine supports it (or as `options.simd` says), synchronously. */
export function loadWasm(options: { simd?: boolean } = {}): Kernels {
  const simd = options.simd ?? wasmSimdSupported();
  if (simd && !wasmSimdSupported()) {
    throw new Error('The SIMD build of the wasm backend was requested, but this engine does not support WebAssembly SIMD');
  }
  return instantiateWasm(readWasmFile(simd), simd);
}

/**
 * The wasm kernels from the bytes (or a compiled module) of one build; `simd` says which build it is.
 * Uses no Node built-ins. Compiles synchronously: in a browser's main thread prefer a Worker, or pass
 * a module compiled with `WebAssembly.compile`.
 */
export function instantiateWasm(bytes: ArrayBuffer | ArrayBufferView | WasmModule, simd: boolean): Kernels {
  const module = bytes instanceof WA.Module ? bytes : new WA.Module(bytes as ArrayBuffer | ArrayBufferView);
  let memory: WasmMemory | undefined;
  const env = {
    abort(message: number, file: number, line: number, column: number): never {
      const text = memory ? `${readString(memory, message >>> 0)} (${readString(memory, file >>> 0)}:${line}:${column})` : 'unknown';
      throw new Error(`wasm backend aborted: ${text}`);
    },
  };
  const instance = new WA.Instance(module, { env });
  memory = (instance.exports as WasmExports).memory;
  return wasmKernels(instance.exports, simd);
}

/**
 * The kernels over the exports of an instantiated module with the raw ABI of wasm/assembly/index.ts
 * (the names and signatures of `WasmExports`); `simd` says which build it is. instantiateWasm uses it
 * for the AssemblyScript module; the emscripten build of native/kernels (bench/peers/emscripten)
 * exports the same ABI.
 */
export function wasmKernels(instanceExports: object, simd: boolean): Kernels {
  const exports = withTrapMessages(instanceExports as WasmExports);
  if ((exports.simd() === 1) !== simd) {
    throw new Error(`The wasm module given as the ${simd ? 'SIMD' : 'scalar'} build is the ${simd ? 'scalar' : 'SIMD'} build`);
  }
  return createKernels(new Heap(exports), simd);
}

/**
 * The exports, with traps (a failed memory.grow ends in `unreachable`) turned into an Error that says
 * which kernel failed and the likely cause.
 */
function withTrapMessages(raw: WasmExports): WasmExports {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'function') { wrapped[name] = value; continue; }
    const fn = value as (...args: number[]) => number;
    wrapped[name] = (...args: number[]): number => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof Error && e.constructor.name === 'RuntimeError') {
          throw new Error(`wasm backend: ${name} trapped (${e.message}); most likely the wasm memory (4 GiB at most) is exhausted`);
        }
        throw e;
      }
    };
  }
  return wrapped as unknown as WasmExports;
}

/** An AssemblyScript string (UTF-16, byte length stored just before it), for abort messages. */
function readString(memory: WasmMemory, ptr: number): string {
  if (ptr === 0 || ptr < 4 || ptr > memory.buffer.byteLength) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0];
  if (ptr + bytes > memory.buffer.byteLength) return '';
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

/** Largest block the wasm allocator serves (its BLOCK_MAXSIZE is 2^30, less the block header). */
const MAX_BLOCK = 2 ** 30 - 64;

type Typed = Float32Array | Float64Array | Int32Array | Uint32Array;

/**
 * Linear memory access: typed-array views re-derived whenever the memory has grown, and one scratch
 * arena (grown on demand, never shrunk) for per-call inputs and outputs.
 */
class Heap {
  private buffer: ArrayBuffer | null = null;
  private views!: { f32: Float32Array; f64: Float64Array; i32: Int32Array; u32: Uint32Array };
  private arena = 0;
  private arenaBytes = 0;

  constructor(readonly w: WasmExports) {}

  private fresh(): { f32: Float32Array; f64: Float64Array; i32: Int32Array; u32: Uint32Array } {
    const buffer = this.w.memory.buffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.views = {
        f32: new Float32Array(buffer), f64: new Float64Array(buffer),
        i32: new Int32Array(buffer), u32: new Uint32Array(buffer),
      };
    }
    return this.views;
  }

  /** The current view of the element type of `like`. */
  view(like: Typed): Typed {
    const v = this.fresh();
    if (like instanceof Float32Array) return v.f32;
    if (like instanceof Float64Array) return v.f64;
    if (like instanceof Int32Array) return v.i32;
    return v.u32;
  }

  f32(): Float32Array { return this.fresh().f32; }

  alloc(bytes: number): number {
    // The AssemblyScript allocator serves blocks of up to 1 GiB (and wasm32 memory is 4 GiB in all).
    if (!(bytes <= MAX_BLOCK)) {
      throw new RangeError(`Expected at most ${MAX_BLOCK} bytes per wasm buffer but received a request for ${bytes} bytes`);
    }
    const ptr = this.w.alloc(Math.max(bytes, 16)) >>> 0;
    if (ptr === 0) throw new Error(`wasm backend: cannot allocate ${bytes} bytes`);
    return ptr;
  }

  free(ptr: number): void { this.w.free(ptr); }

  /**
   * Pointers to consecutive 16-byte aligned regions of the given byte sizes in the scratch arena.
   * Valid until the next call of `stage`.
   */
  stage(...bytes: number[]): number[] {
    const sizes = bytes.map(align16);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total > this.arenaBytes) {
      // Grow by half at least, so that slowly growing calls do not reallocate every time; forget the
      // old block before allocating so that a failed allocation leaves an empty arena.
      const grown = Math.max(total, Math.min(MAX_BLOCK, align16(this.arenaBytes * 1.5)));
      if (this.arena !== 0) this.free(this.arena);
      this.arena = 0;
      this.arenaBytes = 0;
      this.arena = this.alloc(grown);
      this.arenaBytes = grown;
    }
    const ptrs: number[] = [];
    let at = this.arena;
    for (const s of sizes) { ptrs.push(at); at += s; }
    return ptrs;
  }

  /** Copy the first `count` elements of `src` to `ptr`. */
  put(ptr: number, src: Typed, count = src.length): void {
    if (count === 0) return;
    const v = this.view(src);
    const at = ptr / v.BYTES_PER_ELEMENT;
    v.set(count === src.length ? src : src.subarray(0, count), at);
  }

  /** Copy `count` elements at `ptr` into `dst`. */
  get(ptr: number, dst: Typed, count = dst.length): void {
    if (count === 0) return;
    const v = this.view(dst);
    const at = ptr / v.BYTES_PER_ELEMENT;
    dst.set(v.subarray(at, at + count));
  }
}

/** `bytes` rounded up to a multiple of 16 (arithmetic, not bitwise: sizes may exceed 2^31). */
function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** Per-call arrays staged into the arena: bytes of each. */
const F32 = 4, F64 = 8, I32 = 4;

/** Bases whose U, gradient and moments live in wasm memory. */
class WasmBases implements Bases {
  readonly K: number;
  readonly D: number;
  readonly dims: Int32Array;
  /** Adam step counter. */
  t = 0;
  private block: number;
  readonly U: number;
  readonly G: number;
  readonly M: number;
  readonly V: number;
  readonly dimsPtr: number;

  constructor(readonly heap: Heap, private readonly registry: FinalizationRegistry<number> | null,
              readonly n: number, dims: Int32Array, U?: Float32Array) {
    this.dims = Int32Array.from(dims);
    this.K = dims.length;
    this.D = this.dims.reduce((a, b) => a + b, 0);
    const size = align16(n * this.D * F32);
    this.block = heap.alloc(4 * size + this.K * I32);
    this.U = this.block;
    this.G = this.U + size;
    this.M = this.G + size;
    this.V = this.M + size;
    this.dimsPtr = this.V + size;
    const f32 = heap.f32();
    f32.fill(0, this.U >>> 2, (this.dimsPtr >>> 2));
    heap.put(this.dimsPtr, this.dims);
    if (U) heap.put(this.U, U, n * this.D);
    registry?.register(this, this.block, this);
  }

  /** The live pointer block; throws after dispose. */
  live(): this {
    if (this.block === 0) throw new Error('Expected live bases for bases but received disposed bases');
    return this;
  }

  read(): Float32Array {
    this.live();
    const out = new Float32Array(this.n * this.D);
    this.heap.get(this.U, out);
    return out;
  }

  write(U: Float32Array): void {
    this.live();
    this.heap.put(this.U, U, this.n * this.D);
  }

  readGrad(out = new Float32Array(this.n * this.D)): Float32Array {
    this.live();
    this.heap.get(this.G, out, this.n * this.D);
    return out;
  }

  resetOptimizer(): void {
    this.live();
    this.heap.f32().fill(0, this.M >>> 2, (this.M >>> 2) + 2 * (this.G - this.U) / F32);
    this.t = 0;
  }

  dispose(): void {
    if (this.block === 0) return;
    this.registry?.unregister(this);
    this.heap.free(this.block);
    this.block = 0;
  }
}

function createKernels(heap: Heap, simd: boolean): Kernels {
  const w = heap.w;
  const registry = typeof FinalizationRegistry === 'undefined'
    ? null
    : new FinalizationRegistry<number>((ptr) => w.free(ptr));

  const own = (bases: Bases): WasmBases => {
    // Every wasm instance (simd, scalar, the emscripten peer) has its own memory and heap.
    if (!(bases instanceof WasmBases) || bases.heap !== heap) {
      throw new TypeError('Expected bases created by this backend (createBases) for bases but received bases of another backend');
    }
    return bases.live();
  };

  const streamKernel = (fn: 'randomU32' | 'normals' | 'uniforms') =>
    (out: Float32Array | Uint32Array, seed: number, stream: number, offset: number): void => {
      if (out.length === 0) return;
      const [p] = heap.stage(out.length * 4);
      w[fn](p, out.length, seed, stream >>> 0, offset);
      heap.get(p, out);
    };

  const kernels: Omit<Kernels, 'async'> = {
    info: (): KernelInfo => ({ backend: 'wasm', isa: simd ? 'simd128' : 'scalar', threads: 1 }),

    philox(counters, key, out) {
      const M = counters.length >>> 2;
      if (M === 0) return;
      const [pc, po] = heap.stage(M * 16, M * 16);
      heap.put(pc, counters, 4 * M);
      w.philox(pc, M, key[0], key[1], po);
      heap.get(po, out, 4 * M);
    },
    randomU32: streamKernel('randomU32'),
    normals: streamKernel('normals'),
    uniforms: streamKernel('uniforms'),

    gemm(transA, transB, m, n, k, alpha, A, B, beta, C) {
      if (m === 0 || n === 0) return;
      const [pa, pb, pc] = heap.stage(m * k * F32, k * n * F32, m * n * F32);
      heap.put(pa, A, m * k);
      heap.put(pb, B, k * n);
      if (beta !== 0) heap.put(pc, C, m * n);
      w.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, pa, pb, beta, pc);
      heap.get(pc, C, m * n);
    },

    svd(A, batch, m, n, r, U, S, V) {
      if (batch === 0) return;
      const [pa, pu, ps, pv] = heap.stage(batch * m * n * F32, batch * m * r * F32, batch * r * F32, batch * n * r * F32);
      heap.put(pa, A, batch * m * n);
      w.svd(pa, batch, m, n, r, pu, ps, pv);
      heap.get(pu, U, batch * m * r);
      heap.get(ps, S, batch * r);
      heap.get(pv, V, batch * n * r);
    },

    eigh(A, batch, n, values, vectors) {
      if (batch === 0) return;
      const [pa, pl, pv] = heap.stage(batch * n * n * F32, batch * n * F32, batch * n * n * F32);
      heap.put(pa, A, batch * n * n);
      w.eigh(pa, batch, n, pl, pv);
      heap.get(pl, values, batch * n);
      heap.get(pv, vectors, batch * n * n);
    },

    nearest(queries, M, refs, N, n, index, dist) {
      if (M === 0) return;
      const [pq, pr, pi, pd] = heap.stage(M * n * F32, N * n * F32, M * I32, M * F32);
      heap.put(pq, queries, M * n);
      heap.put(pr, refs, N * n);
      w.nearest(pq, M, pr, N, n, pi, pd);
      heap.get(pi, index, M);
      heap.get(pd, dist, M);
    },

    createBases: (n, dims, U) => new WasmBases(heap, registry, n, dims, U),

    retract(bases, method) {
      const b = own(bases);
      w.retract(b.U, b.n, b.D, b.dimsPtr, b.K, method === 'polar' ? 1 : 0);
    },

    project(x, B, bases, P) {
      const b = own(bases);
      if (B === 0) return;
      const [px, pp] = heap.stage(B * b.n * F32, B * b.D * F32);
      heap.put(px, x, B * b.n);
      w.project(px, B, b.n, b.U, b.D, pp);
      heap.get(pp, P, B * b.D);
    },

    gate(P, B, dims, bias, phi, out) {
      const K = dims.length;
      if (B === 0) return;
      const D = dims.reduce((a, d) => a + d, 0);
      const [pp, pd, pb, pf, pw] = heap.stage(B * D * F32, K * I32, B * K * F64, B * K * F64, B * K * F32);
      heap.put(pp, P, B * D);
      heap.put(pd, dims, K);
      heap.put(pb, bias, B * K);
      heap.put(pf, phi, B * K);
      w.gate(pp, B, D, pd, K, pb, pf, pw);
      heap.get(pw, out, B * K);
    },

    denoise(x, B, bases, prior, s, sigma, out, gates) {
      const b = own(bases);
      if (B === 0) return;
      const { n, D, K } = b;
      const [px, pl, pm, ps, pg, po, pw] = heap.stage(
        B * n * F32, K * F64, K * F64, B * F32, B * F32, B * n * F32, gates ? B * K * F32 : 0);
      heap.put(px, x, B * n);
      stagePrior(heap, prior, K, pl, pm);
      heap.put(ps, s, B);
      heap.put(pg, sigma, B);
      w.denoise(px, B, n, b.U, D, b.dimsPtr, K, pl, pm, prior.delta, ps, pg, po, gates ? pw : 0);
      heap.get(po, out, B * n);
      if (gates) heap.get(pw, gates, B * K);
    },

    lossGrad(x0, eps, B, s, sigma, weight, bases, prior) {
      const b = own(bases);
      const { n, D, K } = b;
      if (B === 0) {
        heap.f32().fill(0, b.G >>> 2, (b.G >>> 2) + n * D);
        return 0;
      }
      const [px, pe, pl, pm, ps, pg, pwt] = stageDraws(heap, B, n, K, s, sigma, weight, prior);
      heap.put(px, x0, B * n);
      heap.put(pe, eps, B * n);
      return w.lossGrad(px, pe, B, n, ps, pg, pwt, b.U, D, b.dimsPtr, K, pl, pm, prior.delta, b.G);
    },

    stiefelStep(bases, o: StiefelOptions) {
      const b = own(bases);
      if (o.method === 'adam') b.t += 1;
      w.stiefelStep(b.U, b.G, b.M, b.V, b.n, b.D, b.dimsPtr, b.K, o.method === 'adam' ? 1 : 0, o.lr,
        o.momentum, o.beta1, o.beta2, o.eps, b.t, o.retraction === 'polar' ? 1 : 0);
    },

    trainSteps(data, N, index, noise, B, T, s, sigma, weight, bases, prior, o, lr, losses) {
      const b = own(bases);
      const { n, D, K } = b, TB = T * B;
      const [px, pe, pl, pm, ps, pg, pwt, plr, plo] = stageDraws(heap, TB, n, K, s, sigma, weight, prior, T, T);
      // The rows of the draws gathered straight into wasm memory, and their noise drawn there.
      const rows = rowViews(data, N, n), f32 = heap.f32();
      for (let j = 0, at = px / F32; j < TB; j++, at += n) f32.set(rows[index[j]], at);
      if (TB * n > 0) w.normals(pe, TB * n, noise.seed, noise.stream >>> 0, noise.offset);
      heap.put(plr, lr, T);
      const adam = o.method === 'adam';
      const done = w.trainSteps(px, pe, B, T, n, ps, pg, pwt, b.U, b.G, b.M, b.V, D, b.dimsPtr, K, pl, pm, prior.delta,
        adam ? 1 : 0, o.momentum, o.beta1, o.beta2, o.eps, b.t, o.retraction === 'polar' ? 1 : 0, plr, plo);
      heap.get(plo, losses, T);
      if (adam) for (let t = 0; t < done; t++) if (lr[t] > 0) b.t++;
      return done;
    },
  };

  // Promise forms: the computation is synchronous here; errors become rejections.
  const async: AsyncKernels = {
    gemm: async (...a) => kernels.gemm(...a),
    svd: async (...a) => kernels.svd(...a),
    eigh: async (...a) => kernels.eigh(...a),
    nearest: async (...a) => kernels.nearest(...a),
    denoise: async (...a) => kernels.denoise(...a),
    lossGrad: async (...a) => kernels.lossGrad(...a),
  };
  return { ...kernels, async };
}

/**
 * Stages the minibatch draws of lossGrad (`rows` = B) and trainSteps (`rows` = T B): room for `x0` and
 * `eps` `[rows, n]` (the caller fills them), the prior, `s`, `sigma`, `weight` `[rows]`, then room for
 * float64 arrays of the lengths `f64`; their pointers in that order.
 */
function stageDraws(heap: Heap, rows: number, n: number, K: number, s: Float32Array, sigma: Float32Array,
  weight: Float32Array, prior: Prior, ...f64: number[]): number[] {
  const p = heap.stage(rows * n * F32, rows * n * F32, K * F64, K * F64, rows * F32, rows * F32, rows * F32, ...f64.map((l) => l * F64));
  stagePrior(heap, prior, K, p[2], p[3]);
  heap.put(p[4], s, rows);
  heap.put(p[5], sigma, rows);
  heap.put(p[6], weight, rows);
  return p;
}

const rowCache = new WeakMap<Float32Array, Float32Array[]>();

/**
 * One view per row of `data [N, n]`, made once per array (and remade when N or n changes): copying
 * rows from views made once is several times faster than from a fresh subarray per row.
 */
function rowViews(data: Float32Array, N: number, n: number): Float32Array[] {
  let rows = rowCache.get(data);
  if (!rows || rows.length !== N || (N > 0 && rows[0].length !== n)) {
    rows = Array.from({ length: N }, (_, i) => data.subarray(i * n, (i + 1) * n));
    rowCache.set(data, rows);
  }
  return rows;
}

function stagePrior(heap: Heap, prior: Prior, K: number, logPi: number, lambda: number): void {
  heap.put(logPi, prior.logPi, K);
  heap.put(lambda, prior.lambda, K);
}
