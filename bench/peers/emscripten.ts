/**
 * THE HOOK for the emscripten build of the native C++ kernels (emcc -O3 -msimd128; built by
 * `node bench/peers/emscripten/build.mjs`, loaded by bench/peers/emscripten/load.ts): extra
 * molrg-contract backends measured next to the AssemblyScript module. Everything the harness knows
 * about that build is in this one function; when the build is absent it reports "emscripten build
 * absent" and the harness goes on without it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernels } from '../../src/backend/types.js';

/** An extra implementation of the kernel contract. */
export interface ExtraBackend {
  /** Short id, e.g. `emscripten`. */
  id: string;
  /** Display name. */
  label: string;
  kernels: Kernels;
  /**
   * The backend slot it can stand in for in the science layer (`registerBackend(slot, ...)`), so
   * training, sampling and clustering run on it in this thread; sweep workers (W6) load their
   * backend by name and cannot use it.
   */
  slot: 'wasm';
}

/** The extra backends that are built here, or the reason there are none. */
export function extraBackends(): { backends: ExtraBackend[]; note: string | null } {
  const loader = join(__dirname, 'emscripten', 'load.ts');
  if (!existsSync(loader)) return { backends: [], note: 'emscripten build absent (no bench/peers/emscripten/load.ts)' };
  try {
    // Loaded lazily: the module exists only where the emscripten peer was added.
    const mod = require(loader) as { loadEmscripten?: (build?: 'simd' | 'scalar') => Kernels | null };
    const kernels = mod.loadEmscripten?.('simd') ?? null;
    if (!kernels) return { backends: [], note: 'emscripten build absent (run `node bench/peers/emscripten/build.mjs` with emcc installed)' };
    return { backends: [{ id: 'emscripten', label: `molrg emscripten (${kernels.info().isa})`, kernels, slot: 'wasm' }], note: null };
  } catch (e) {
    return { backends: [], note: `emscripten build present but not loadable: ${(e as Error).message}` };
  }
}
