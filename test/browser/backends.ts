/**
 * test/backends.ts for the browser: the kernel table runs on both wasm builds, instantiated from
 * the bytes the page fetched (globalThis.molrgWasm), against the js reference (the table's `ref`),
 * all in the page.
 */
import { instantiateWasm } from '../../src/backend/wasm.js';
import type { Variant } from '../backends.js';

export type { Variant };

export function variants(): Variant[] {
  const bytes = (globalThis as unknown as { molrgWasm: { simd: ArrayBuffer; scalar: ArrayBuffer } }).molrgWasm;
  return [
    { label: 'wasm/simd128 (browser)', kernels: instantiateWasm(bytes.simd, true), activate() {} },
    { label: 'wasm/scalar (browser)', kernels: instantiateWasm(bytes.scalar, false), activate() {} },
  ];
}
