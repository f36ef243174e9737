// trainSteps: T training steps in one call (SPEC section 4, docs/kernels.md). For minibatch t (rows
// t B .. of x0, eps [T B, n]; entries t B .. of s, sigma, weight [T B]) losses[t] = lossGrad, then a
// stiefelStep at lr[t] where lr[t] > 0. Returns T, or the first t whose loss or gradient is not finite
// (no step taken for it). One call from JavaScript for many steps instead of two per step.
import { lossGrad } from './lossgrad';
import { stiefelStep } from './stiefel';

// True when every entry of x [len] is finite: x * 0 is 0 for finite x and NaN for +-Inf and NaN.
function allFinite(x: usize, len: i32): bool {
  let acc: f32 = 0;
  for (let i = 0; i < len; i++) acc += load<f32>(x + (<usize>i << 2)) * 0;
  return acc == 0;
}

export function trainSteps(x0: usize, eps: usize, B: i32, T: i32, n: i32, s: usize, sigma: usize, weight: usize,
                           U: usize, G: usize, M: usize, V: usize, D: i32, dims: usize, K: i32, logPi: usize,
                           lambda: usize, delta: f64, method: i32, momentum: f64, beta1: f64, beta2: f64,
                           adamEps: f64, t: f64, retraction: i32, lr: usize, losses: usize): i32 {
  for (let step = 0; step < T; step++) {
    const first = <usize>(step * B);
    const rows = (first * <usize>n) << 2, entries = first << 2;
    const loss = lossGrad(x0 + rows, eps + rows, B, n, s + entries, sigma + entries, weight + entries, U, D, dims,
                          K, logPi, lambda, delta, G);
    store<f64>(losses + (<usize>step << 3), loss);
    if (!isFinite(loss) || !allFinite(G, n * D)) return step;
    const rate = load<f64>(lr + (<usize>step << 3));
    if (rate > 0) {
      if (method == 1) t += 1;
      stiefelStep(U, G, M, V, n, D, dims, K, method, rate, momentum, beta1, beta2, adamEps, t, retraction);
    }
  }
  return T;
}
