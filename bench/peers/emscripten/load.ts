/**
 * The emscripten peer of issue 6: the C++ kernels of native/kernels compiled to WebAssembly SIMD by
 * Debian's emscripten (`emcc -O3 -msimd128`, single-threaded), driven by the same adapter as the
 * AssemblyScript module (src/backend/wasm.ts `wasmKernels`), so it is a complete molrg `Kernels`.
 *
 * API (for the bench:peers runner and the tests):
 *   import { loadEmscripten, emscriptenWasmPath, EMSCRIPTEN_BUILDS } from './emscripten/load.js';
 *   const k = loadEmscripten();           // Kernels | null (null: not built; run the build below);
 *                                         // synchronous (awaiting it works too)
 *   const k2 = loadEmscripten('scalar');  // the same sources without -msimd128, for comparison
 *   k.info()  // { backend: 'wasm', isa: 'emscripten-simd128', threads: 1 }
 * Use it like any backend: `k.gemm(...)`, `k.createBases(...)`, `k.lossGrad(...)`, `k.svd(...)`; bases
 * live in this instance's linear memory (use them only with the Kernels that created them).
 *
 * Build (optional, never part of `npm install` / `npm test`; skips with a message when emcc is absent):
 *   node bench/peers/emscripten/build.mjs   -> bench/peers/emscripten/dist/molrg.emcc.{simd,scalar}.wasm
 * The kernel table runs on it with `MOLRG_TEST_BACKENDS=emscripten` (and by default once it is built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernels } from '../../../src/backend/types.js';
import { wasmKernels } from '../../../src/backend/wasm.js';

/** The builds of build.mjs: `simd` (-msimd128) and `scalar`. */
export const EMSCRIPTEN_BUILDS = ['simd', 'scalar'] as const;
export type EmscriptenBuild = (typeof EMSCRIPTEN_BUILDS)[number];

/** The .wasm file of a build (it may not exist). */
export function emscriptenWasmPath(build: EmscriptenBuild = 'simd'): string {
  return join(__dirname, 'dist', `molrg.emcc.${build}.wasm`);
}

/** The part of the WebAssembly JS API used here (the project compiles without the DOM lib). */
interface WasmApi {
  Module: new (bytes: ArrayBufferView) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The kernels of one emscripten build, or null when it has not been built. Each call makes a new
 * instance (its own memory).
 */
export function loadEmscripten(build: EmscriptenBuild = 'simd'): Kernels | null {
  const file = emscriptenWasmPath(build);
  if (!existsSync(file)) return null;
  const module = new WA.Module(readFileSync(file));
  let memory: { readonly buffer: ArrayBuffer } | undefined;
  // A STANDALONE_WASM reactor imports: the memory-growth notification, and from WASI the environment
  // (getenv of MOLRG_MAX_ISA in isa.cc: an empty one here) and proc_exit (abort(), e.g. bad_alloc).
  const imports = {
    env: { emscripten_notify_memory_growth(): void {} },
    wasi_snapshot_preview1: {
      environ_sizes_get(countPtr: number, bytesPtr: number): number {
        const u32 = new Uint32Array(memory!.buffer);
        u32[countPtr >>> 2] = 0;
        u32[bytesPtr >>> 2] = 0;
        return 0;
      },
      environ_get(): number { return 0; },
      // An abort unwinds through the wasm frames as this JavaScript error: the instance stays usable,
      // but the aborted call's buffers and stack are not released (prefer a fresh instance after one).
      proc_exit(code: number): never {
        throw new Error(`emscripten kernels aborted (exit code ${code}); most likely the wasm memory is exhausted`);
      },
    },
  };
  const { exports } = new WA.Instance(module, imports);
  memory = exports.memory as { readonly buffer: ArrayBuffer };
  (exports._initialize as () => void)();
  const kernels = wasmKernels(exports, build === 'simd');
  const isa = `emscripten-${build === 'simd' ? 'simd128' : 'scalar'}`;
  return { ...kernels, info: () => ({ ...kernels.info(), isa }) };
}
