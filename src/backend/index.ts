/**
 * Backend selection (DESIGN.md): `native` if its binary loads, else `wasm`, else `js`.
 * `MOLRG_BACKEND=native|wasm|js` or `setBackend()` overrides; an explicit request that cannot be met
 * is an error that says why, never a silent fallback. The automatic fallback from native emits one
 * warning with code MOLRG_NO_NATIVE.
 *
 * The loaders come from the environment (host.ts in Node: native and wasm; host.browser.ts in browser
 * bundles: none until `init()` registers wasm with `registerBackend`), so this module pulls in no
 * Node built-ins of its own.
 */
import { host } from './host.js';
import { createJsKernels } from './js/index.js';
import type { BackendName, KernelInfo, Kernels } from './types.js';
import { validated } from './validate.js';

export type { AsyncKernels, BackendName, Bases, KernelInfo, Kernels, Prior, StiefelOptions } from './types.js';

/** What `backendInfo()` reports. */
export interface BackendInfo extends KernelInfo {
  /** What was asked for: a backend name, or `auto`. */
  readonly requested: BackendName | 'auto';
  /** Why the native addon did not load, when it was tried and failed. */
  readonly nativeError?: string;
  /** Why the wasm module did not load, when it was tried and failed. */
  readonly wasmError?: string;
}

interface Active {
  raw: Kernels;
  checked: Kernels;
  info: BackendInfo;
}

let active: Active | null = null;

const NAMES: readonly BackendName[] = ['native', 'wasm', 'js'];

const loaders: Partial<Record<BackendName, () => Kernels>> = { ...host.loaders, js: createJsKernels };

/**
 * Installs the loader of a backend for this environment (the browser entry registers `wasm` once its
 * module is compiled). The active backend is chosen again on next use.
 */
export function registerBackend(name: BackendName, loader: () => Kernels): void {
  if (!NAMES.includes(name)) throw new RangeError(`Expected 'native', 'wasm' or 'js' for name but received ${JSON.stringify(name)}`);
  if (typeof loader !== 'function') throw new TypeError(`Expected a function for loader but received ${typeof loader}`);
  loaders[name] = loader;
  active = null;
}

/** The loader of a backend, or an Error saying it does not exist in this environment. */
function loader(name: BackendName): () => Kernels {
  const load = loaders[name];
  if (load) return load;
  return () => {
    throw new Error(name === 'wasm'
      ? 'the wasm module is not loaded here yet (in a browser, await init() first)'
      : `the ${name} backend does not exist in this environment (${name === 'native' ? 'Node.js only' : 'unknown'})`);
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const warned = new Set<string>();

/** One warning per code and process. */
function warnOnce(text: string, code: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  host.warn(text, code);
}

function activate(raw: Kernels, requested: BackendName | 'auto', errors: { nativeError?: string; wasmError?: string }): BackendInfo {
  const info: BackendInfo = { ...raw.info(), requested, ...errors };
  active = { raw, checked: validated(raw), info };
  return info;
}

/**
 * Chooses the backend for everything that follows. `auto` (the default) tries native, then wasm,
 * then js; a named backend must load or this throws an Error explaining why.
 */
export function setBackend(name: BackendName | 'auto' = 'auto'): BackendInfo {
  if (name !== 'auto' && !NAMES.includes(name)) {
    throw new RangeError(`Expected 'native', 'wasm', 'js' or 'auto' for backend but received ${JSON.stringify(name)}`);
  }
  if (name !== 'auto') {
    let raw: Kernels;
    try {
      raw = loader(name)();
    } catch (e) {
      throw new Error(`molrg: the ${name} backend was requested but cannot be used: ${message(e)}`, { cause: e });
    }
    return activate(raw, name, {});
  }
  // Native is tried only where the environment has it (not in browsers, where wasm is the default).
  let nativeError: string | undefined;
  if (loaders.native) {
    try {
      return activate(loaders.native(), 'auto', {});
    } catch (e) {
      nativeError = message(e);
    }
  }
  let wasmError: string | undefined;
  try {
    const info = activate(loader('wasm')(), 'auto', { nativeError });
    if (nativeError !== undefined) {
      warnOnce(`molrg: native addon unavailable, using the wasm backend (${nativeError})`, 'MOLRG_NO_NATIVE');
    }
    return info;
  } catch (e) {
    wasmError = message(e);
  }
  warnOnce(`molrg: neither the native addon nor wasm is available, using the js reference (${wasmError})`, 'MOLRG_NO_WASM');
  return activate(createJsKernels(), 'auto', { nativeError, wasmError });
}

function ensure(): Active {
  if (!active) {
    const env = host.requested();
    setBackend(env === undefined || env === '' ? 'auto' : (env as BackendName));
  }
  return active as Active;
}

/** Which backend is in use, its ISA and threads, and why any native or wasm attempt failed. */
export function backendInfo(): BackendInfo {
  return ensure().info;
}

/** The active backend's kernels, every call validated (the public, safe entry point). */
export function kernels(): Kernels {
  return ensure().checked;
}

/**
 * The active backend's kernels without argument checks, for library code that validated its inputs
 * at its own API boundary (the native binding still re-checks buffer lengths).
 */
export function rawKernels(): Kernels {
  return ensure().raw;
}

/**
 * A specific backend's kernels without changing the active one, e.g. to compare backends.
 * Validated unless `checked: false` (benchmarks measure the kernels alone).
 */
export function backendKernels(name: BackendName, options: { checked?: boolean } = {}): Kernels {
  if (!NAMES.includes(name)) throw new RangeError(`Expected 'native', 'wasm' or 'js' for name but received ${JSON.stringify(name)}`);
  const raw = loader(name)();
  return options.checked === false ? raw : validated(raw);
}
