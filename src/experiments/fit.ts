/**
 * Small statistics shared by the experiments: least-squares lines and the 50 % crossing of a
 * success-rate curve.
 */
import { finiteList } from '../backend/validate.js';

/** A least-squares line y = slope x + intercept and its coefficient of determination. */
export interface LineFit {
  slope: number;
  intercept: number;
  /** R^2 = 1 - SS_res / SS_tot (1 when every y is equal and fitted exactly). */
  r2: number;
}

/** Ordinary least squares of y against x; null with fewer than two distinct x. */
export function fitLine(x: readonly number[], y: readonly number[]): LineFit | null {
  finiteList('y', y, finiteList('x', x).length);
  const m = x.length;
  if (m < 2 || new Set(x).size < 2) return null;
  const mx = x.reduce((a, b) => a + b, 0) / m, my = y.reduce((a, b) => a + b, 0) / m;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < m; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  const slope = sxy / sxx, intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < m; i++) ssRes += (y[i] - slope * x[i] - intercept) ** 2;
  return { slope, intercept, r2: syy > 0 ? 1 - ssRes / syy : (ssRes === 0 ? 1 : 0) };
}

/**
 * The phase boundary along one curve: the smallest grid value N whose success rate is >= 0.5 and
 * stays >= 0.5 at every larger N of the grid (so a lucky cell below the transition does not count).
 * Null when the rate never gets there. Exact for a unit-step grid: the transition lies between the
 * previous grid value and this one.
 */
export function crossing(N: readonly number[], rate: readonly number[]): number | null {
  finiteList('rate', rate, finiteList('N', N).length);
  let found: number | null = null;
  for (let i = N.length - 1; i >= 0; i--) {
    if (rate[i] >= 0.5) found = N[i];
    else break;
  }
  return found;
}
