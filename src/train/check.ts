/**
 * Argument checks shared by `trainDAE` and `kSubspaces`, in the library's one error dialect
 * (`Expected <what> for <argument> but received <value>`).
 */
import { fail, int, size } from '../backend/validate.js';
import { checkMatrix, type Matrix } from '../matrix.js';
import { perComponent } from '../model/molrg.js';

/** Training data: a Matrix `[N, n]` of finite values with N >= minRows and n >= 1. */
export function checkData(name: string, x: unknown, minRows = 1): Matrix {
  const m = checkMatrix(name, x, { minRows });
  if (m.cols < 1) throw new RangeError(`Expected at least 1 column for ${name} but received ${m.rows} x ${m.cols}`);
  return m;
}

/** `d`: one subspace dimension for all K components or one per component, each in [1, n]. */
export function checkDims(name: string, d: unknown, K: number, n: number): number[] {
  if (d === undefined) fail(`a number or an array of K = ${K} numbers`, name, d, TypeError);
  size('K', n, K); // U [n, D] with D >= K must stay addressable
  return perComponent(name, d, K, 0).map((v, k) => int(typeof d === 'number' ? name : `${name}[${k}]`, v, 1, n));
}

/** An optional integer option with a default. */
export function intOption(name: string, value: unknown, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  return value === undefined ? fallback : int(name, value, min, max);
}
