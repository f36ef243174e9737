/**
 * What the Node.js environment gives backend selection (src/backend/index.ts): the native and wasm
 * loaders, the `MOLRG_BACKEND` variable, and process warnings. Browser builds replace this module with
 * host.browser.ts (the esbuild and Vite configs alias it), so that nothing of Node reaches a bundle.
 */
import { loadNative } from './native.js';
import type { BackendName, Kernels } from './types.js';
import { loadWasm } from './wasm.js';

/** An environment's part in backend selection. */
export interface BackendHost {
  /** Loaders of the backends this environment provides besides `js` (which is always there). */
  readonly loaders: Partial<Record<Exclude<BackendName, 'js'>, () => Kernels>>;
  /** The backend the environment asks for (`MOLRG_BACKEND` in Node), if any. */
  requested(): string | undefined;
  /** Emits a warning with a code (Node: `process.emitWarning`). */
  warn(message: string, code: string): void;
}

export const host: BackendHost = {
  loaders: { native: loadNative, wasm: () => loadWasm() },
  requested: () => process.env.MOLRG_BACKEND,
  warn: (message, code) => process.emitWarning(message, { code }),
};
