/**
 * Every backend variant this machine can run, for the shared kernel table: js; wasm with and without
 * SIMD; native at each ISA the CPU has. A variant that cannot load is a failure, not a skip, unless
 * MOLRG_TEST_BACKENDS narrows the list (e.g. `MOLRG_TEST_BACKENDS=js,wasm`). The optional emscripten
 * build of native/kernels (bench/peers/emscripten, issue 6) joins when it has been built, or when
 * named in MOLRG_TEST_BACKENDS (then a missing build is a failure).
 */
import { host } from '../src/backend/host.js';
import { type BackendName, registerBackend, setBackend } from '../src/backend/index.js';
import { createJsKernels } from '../src/backend/js/index.js';
import { loadNative, nativeIsas, setNativeIsa } from '../src/backend/native.js';
import type { Kernels } from '../src/backend/types.js';
import { loadWasm } from '../src/backend/wasm.js';
import { emscriptenWasmPath, loadEmscripten } from '../bench/peers/emscripten/load.js';

export interface Variant {
  label: string;
  kernels: Kernels;
  /** Called before the variant's tests (native: select the ISA). */
  activate(): void;
}

const narrowed = process.env.MOLRG_TEST_BACKENDS;
const wanted = (narrowed ?? 'js,wasm,native').split(',');

export function variants(): Variant[] {
  const out: Variant[] = [];
  if (wanted.includes('js')) out.push({ label: 'js', kernels: createJsKernels(), activate() {} });
  if (wanted.includes('wasm')) {
    for (const simd of [true, false]) {
      out.push({ label: `wasm/${simd ? 'simd128' : 'scalar'}`, kernels: loadWasm({ simd }), activate() {} });
    }
  }
  if (wanted.includes('native')) {
    const kernels = loadNative();
    for (const isa of nativeIsas()) {
      out.push({ label: `native/${isa}`, kernels, activate: () => setNativeIsa(isa) });
    }
  }
  if (narrowed === undefined || wanted.includes('emscripten')) {
    const kernels = loadEmscripten('simd');
    if (kernels) {
      out.push({ label: 'emscripten/simd128', kernels, activate() {} });
    } else if (wanted.includes('emscripten')) {
      throw new Error(`The emscripten variant needs ${emscriptenWasmPath('simd')}; run \`node bench/peers/emscripten/build.mjs\``);
    }
  }
  return out;
}

/**
 * Mocha hooks for a describe block: variant v becomes the active backend of the science layer (in
 * the slot of its backend name; the emscripten build takes the wasm slot), and the environment's
 * loader is put back afterwards. Returns the slot's name.
 */
export function activeDuring(v: Variant): BackendName {
  const name = v.kernels.info().backend;
  before(() => {
    registerBackend(name, () => v.kernels);
    v.activate();
    setBackend(name);
  });
  after(() => registerBackend(name, name === 'js' ? createJsKernels : host.loaders[name] as () => Kernels));
  return name;
}
