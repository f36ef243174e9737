/**
 * Per-row noise levels and scales for the denoisers: a number for the whole batch or one per row,
 * checked once at the API boundary and turned into the kernel form `Float32Array [B]`.
 */
import { fail } from '../backend/validate.js';
import type { Levels } from './denoiser.js';

/** `value` (a number or B numbers, each finite and > 0) as a `Float32Array [B]`. */
export function levels(name: string, value: Levels | undefined, B: number, fallback?: number): Float32Array {
  if (value === undefined) {
    if (fallback === undefined) fail('a number > 0 or one per row', name, value, TypeError);
    return new Float32Array(B).fill(fallback);
  }
  if (typeof value === 'number') {
    if (!(Math.fround(value) > 0) || !Number.isFinite(Math.fround(value))) fail('a finite number > 0 (in float32 range)', name, value);
    return new Float32Array(B).fill(value);
  }
  if (!(value instanceof Float32Array) && !Array.isArray(value)) fail('a number or an array of one number per row', name, value, TypeError);
  if (value.length !== B) fail(`one value per row (${B})`, name, value);
  const out = Float32Array.from(value as ArrayLike<number>);
  for (let b = 0; b < B; b++) {
    if (!(out[b] > 0) || !Number.isFinite(out[b])) {
      throw new RangeError(`Expected finite values > 0 (in float32 range) for ${name} but received ${(value as ArrayLike<number>)[b]} at index ${b}`);
    }
  }
  return out;
}

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Tweedie's formula (SPEC section 3): score = (s D(x_t) - x_t) / gamma^2, gamma = s sigma, per row,
 * in float64. A score beyond the float32 range (|x_t - s D| / gamma^2 > 3.4e38, e.g. x ~ 1e30 at
 * sigma = 1e-6) is a RangeError naming sigma, never a silent Infinity.
 */
export function tweedie(x: Float32Array, D: Float32Array, n: number, s: Float32Array, sigma: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < s.length; b++) {
    const sb = s[b], g2 = (sb * sigma[b]) ** 2;
    for (let i = b * n; i < (b + 1) * n; i++) {
      const v = (sb * D[i] - x[i]) / g2;
      if (!(Math.abs(v) <= FLOAT32_MAX)) {
        throw new RangeError(`Expected a noise level whose score fits float32 (|score| <= 3.4e38) for sigma but received ${sigma[b]} at row ${b}: the score there is ${v.toExponential(2)} (use a larger sigma or rescale x)`);
      }
      out[i] = v;
    }
  }
  return out;
}
