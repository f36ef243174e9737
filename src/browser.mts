/**
 * The browser entry of molrg (the `browser` condition of the package exports): the library on the
 * wasm backend, with no Node.js built-ins. `await init()` once before first use; it fetches and
 * compiles the .wasm build (SIMD where the engine supports it) and makes wasm the active backend.
 *
 * Bundlers (Vite, webpack 5, esbuild with a file loader) see the `new URL('…wasm', import.meta.url)`
 * below and ship both .wasm builds with the app; `wasmUrl` overrides where they are served from.
 */
import { registerBackend, setBackend, type BackendInfo } from './backend/index.js';
import type { Kernels } from './backend/types.js';
import { instantiateWasm, wasmFileName, wasmSimdSupported, type WasmModule } from './backend/wasm.js';

export * from './api.js';
export { rawKernels } from './backend/index.js';

/** The WebAssembly API used here (the project compiles without the DOM lib). */
interface WasmApi {
  compile(bytes: ArrayBuffer | ArrayBufferView): Promise<WasmModule>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Options of `init`. */
export interface InitOptions {
  /**
   * Where the .wasm build is served from. Default: the builds next to this module, as a bundler
   * emits them (`molrg.simd.wasm` or `molrg.scalar.wasm`, chosen by `simd`).
   */
  wasmUrl?: string | URL;
  /** The bytes (or a compiled `WebAssembly.Module`) of a build instead of fetching one. */
  wasm?: ArrayBuffer | ArrayBufferView | WasmModule;
  /** Whether the build given or fetched is the SIMD one. Default: whether this engine supports SIMD. */
  simd?: boolean;
}

let ready: Promise<BackendInfo> | null = null;

/**
 * Loads the wasm backend and makes it the active one. Call (and await) it once before using the
 * library; later calls return the same promise. If it rejects, the library still works on the js
 * reference backend.
 */
export function init(options: InitOptions = {}): Promise<BackendInfo> {
  ready ??= load(options).catch((e: unknown) => {
    ready = null;
    throw e;
  });
  return ready;
}

async function load(options: InitOptions): Promise<BackendInfo> {
  const simd = options.simd ?? wasmSimdSupported();
  let module: WasmModule;
  if (options.wasm !== undefined) {
    module = isModule(options.wasm) ? options.wasm : await WA.compile(options.wasm);
  } else {
    const url = options.wasmUrl ?? defaultUrl(simd);
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`molrg: cannot fetch the wasm backend from ${String(url)} (HTTP ${response.status}); serve ${wasmFileName(simd)} there or pass init({ wasmUrl })`);
    }
    module = await WA.compile(await response.arrayBuffer());
  }
  const kernels: Kernels = instantiateWasm(module, simd);
  registerBackend('wasm', () => kernels);
  return setBackend('wasm');
}

function isModule(x: ArrayBuffer | ArrayBufferView | WasmModule): x is WasmModule {
  return !(x instanceof ArrayBuffer) && !ArrayBuffer.isView(x);
}

/** Two literal URLs, so that bundlers find and emit both builds. */
function defaultUrl(simd: boolean): URL {
  return simd
    ? new URL('../wasm/dist/molrg.simd.wasm', import.meta.url)
    : new URL('../wasm/dist/molrg.scalar.wasm', import.meta.url);
}
