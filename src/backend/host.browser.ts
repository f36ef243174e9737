/**
 * The browser's part in backend selection: no native addon, no environment variables; the wasm
 * loader is registered by `init()` of the browser entry (src/browser.ts) once the module is fetched.
 * Replaces host.ts in browser bundles.
 */
import type { BackendHost } from './host.js';

export const host: BackendHost = {
  loaders: {},
  requested: () => undefined,
  warn: (message, code) => console.warn(`${code}: ${message}`),
};
