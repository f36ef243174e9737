/**
 * The low-rank denoiser shared by the exact MoLRG posterior mean and the learnable DAE (SPEC
 * sections 3, 4): one backend `Bases` per active backend, driven through the `denoise` kernel.
 */
import { rawKernels } from '../backend/index.js';
import type { Bases, Kernels, Prior } from '../backend/types.js';
import { checkMatrix, type Matrix, stack } from '../matrix.js';
import type { Denoiser, Levels } from './denoiser.js';
import { levels, tweedie } from './levels.js';

/** A denoiser of the MoLRG form `x_hat = a0 x + sum_k w_k h_k U_k U_k^T x` (SPEC section 3). */
export interface LowRankDenoiser extends Denoiser {
  /** `exact` (from an MoLRG) or `dae` (from learned bases). */
  readonly kind: 'exact' | 'dae';
  /** The K orthonormal bases, `[n, d_k]` each (copies; changing them does not change the denoiser). */
  readonly bases: readonly Matrix[];
  /** Mixing weights pi_k. */
  readonly pi: readonly number[];
  /** Latent variances lambda_k. */
  readonly lambda: readonly number[];
  /** Off-subspace noise floor delta. */
  readonly delta: number;
  /** The prior in kernel form. */
  prior(): Prior;
  /** `denoise` together with the soft-max gating weights `w [B, K]` of every row. */
  denoiseWithWeights(x: Matrix, sigma: Levels, s?: Levels): { out: Matrix; w: Matrix };
  /** Releases the backend memory now (it is also released when the denoiser is garbage collected). */
  dispose(): void;
}

/**
 * The backend copy of the stacked bases, re-created when the active backend changes, and the
 * denoiser restricted to the span of its bases (computed on first use, with the same backend).
 */
interface Holder {
  kernels?: Kernels;
  bases?: Bases;
  span?: { kernels: Kernels; reduction: SpanReduction };
}

const registry = new FinalizationRegistry<Holder>((h) => {
  h.bases?.dispose();
  h.span?.reduction.reduced.dispose();
});

/** Builds a low-rank denoiser from checked bases and prior values. */
export function lowRankDenoiser(
  kind: 'exact' | 'dae', bases: readonly Matrix[], pi: readonly number[], lambda: readonly number[], delta: number,
): LowRankDenoiser {
  const own = bases.map((b) => ({ rows: b.rows, cols: b.cols, data: b.data.slice() }));
  const n = own[0].rows, K = own.length;
  const dims = Int32Array.from(own, (b) => b.cols);
  const U = stack(own);
  const prior: Prior = { logPi: Float64Array.from(pi, Math.log), lambda: Float64Array.from(lambda), delta };
  const holder: Holder = {};
  const backendBases = (): { k: Kernels; b: Bases } => {
    const k = rawKernels();
    if (holder.kernels !== k || !holder.bases) {
      holder.bases?.dispose();
      holder.bases = k.createBases(n, dims, U);
      holder.kernels = k;
    }
    return { k, b: holder.bases };
  };
  const kernel: TrustedDenoise = (x, B, sc, sig, out, w) => {
    const { k, b } = backendBases();
    k.denoise(x, B, b, prior, sc, sig, out, w);
  };
  const span = (): SpanReduction => {
    const k = rawKernels();
    if (holder.span?.kernels !== k) {
      holder.span?.reduction.reduced.dispose();
      const { Qt, r } = spanBasis(U, n, k);
      const inSpan = own.map((b) => {
        const data = new Float32Array(r * b.cols);
        k.gemm(false, false, r, b.cols, n, 1, Qt, b.data, 0, data);
        return { rows: r, cols: b.cols, data };
      });
      holder.span = { kernels: k, reduction: { r, Qt, reduced: lowRankDenoiser(kind, inSpan, pi, lambda, delta) } };
    }
    return holder.span.reduction;
  };
  const run = (x: Matrix, sigma: Levels, s?: Levels) => {
    const m = checkMatrix('x', x, { cols: n });
    const B = m.rows;
    const sig = levels('sigma', sigma, B), sc = levels('s', s, B, 1);
    const out = new Float32Array(B * n), w = new Float32Array(B * K);
    if (B > 0) kernel(m.data, B, sc, sig, out, w);
    return { x: m, sig, sc, out, w };
  };
  const denoiser: LowRankDenoiser = {
    kind,
    n,
    bases: own,
    pi: [...pi],
    lambda: [...lambda],
    delta,
    prior: () => ({ logPi: prior.logPi.slice(), lambda: prior.lambda.slice(), delta }),
    denoise(x, sigma, s) {
      const r = run(x, sigma, s);
      return { rows: r.x.rows, cols: n, data: r.out };
    },
    denoiseWithWeights(x, sigma, s) {
      const r = run(x, sigma, s);
      return { out: { rows: r.x.rows, cols: n, data: r.out }, w: { rows: r.x.rows, cols: K, data: r.w } };
    },
    score(x, sigma, s) {
      const r = run(x, sigma, s);
      return { rows: r.x.rows, cols: n, data: tweedie(r.x.data, r.out, n, r.sc, r.sig) };
    },
    dispose() {
      holder.bases?.dispose();
      holder.bases = undefined;
      holder.kernels = undefined;
      holder.span?.reduction.reduced.dispose();
      holder.span = undefined;
    },
  };
  registry.register(denoiser, holder);
  trusted.set(denoiser, { kernel, span });
  return denoiser;
}

/**
 * The `denoise` kernel of a low-rank denoiser without the argument checks of `denoise`: for library
 * loops (the samplers) that pass rows they produced themselves, `B >= 1` of them, levels from
 * `levels`, and reuse their output buffers.
 */
export type TrustedDenoise = (x: Float32Array, B: number, s: Float32Array, sigma: Float32Array, out: Float32Array, w?: Float32Array) => void;

const trusted = new WeakMap<Denoiser, { kernel: TrustedDenoise; span: () => SpanReduction }>();

/** The unchecked kernel of a denoiser built by `lowRankDenoiser`, or undefined for any other denoiser. */
export function trustedDenoise(d: Denoiser): TrustedDenoise | undefined {
  return trusted.get(d)?.kernel;
}

/**
 * A low-rank denoiser restricted to the span of its bases. With `Q [n, r]` an orthonormal basis of
 * span(U_1..U_K), `U_k = Q (Q^T U_k)`, so the denoiser sees x only through `c = Q^T x` (the gating
 * reads `||U_k^T x|| = ||(Q^T U_k)^T c||`) and, since the weights sum to 1 (SPEC section 3),
 *
 *     D(x) = Q D_r(c) + a0 (I - Q Q^T) x,    a0 = s delta^2 / beta,
 *
 * where `D_r` is the same denoiser (prior unchanged) in ambient dimension r with bases `Q^T U_k`.
 */
export interface SpanReduction {
  /** r = dim span(U_1..U_K), <= min(n, sum d_k). */
  readonly r: number;
  /** `Q^T [r, n]`: an orthonormal basis of the span, one vector per row. */
  readonly Qt: Float32Array;
  /** `D_r`: the denoiser in the coordinates `c = Q^T x`. */
  readonly reduced: LowRankDenoiser;
}

/**
 * The span reduction of a denoiser built by `lowRankDenoiser` (computed on first use and kept,
 * recomputed when the active backend changes), or undefined for any other denoiser.
 */
export function spanReduction(d: Denoiser): SpanReduction | undefined {
  return trusted.get(d)?.span();
}

/**
 * Singular values of the stacked bases at or below this are dropped from the span basis. Basis
 * columns have norm 1 (within 1e-4, `checkBases`), and a direction shared by two components gives a
 * singular value of float32 rounding size (1.4e-8 in the shared-direction model of
 * test/model.test.ts); dropping a direction of singular value s moves each `U_k^T x` by at most
 * s |x|. Keeping one is always exact (Q only has to contain the span): the tolerance decides r, i.e.
 * speed, and nothing else beyond those 1e-5.
 */
export const SPAN_TOLERANCE = 1e-5;

/**
 * An orthonormal basis of span(U_1..U_K), as `Q^T [r, n]`: the left singular vectors of the stacked
 * `U [n, D]` whose singular values exceed SPAN_TOLERANCE (one thin SVD, the kernel contract's).
 */
function spanBasis(U: Float32Array, n: number, k: Kernels): { Qt: Float32Array; r: number } {
  const D = U.length / n, t = Math.min(n, D);
  const W = new Float32Array(n * t), S = new Float32Array(t);
  k.svd(U, 1, n, D, t, W, S, new Float32Array(D * t));
  let r = 0;
  while (r < t && S[r] > SPAN_TOLERANCE) r++;
  const Qt = new Float32Array(r * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) Qt[j * n + i] = W[i * t + j];
  return { Qt, r };
}

/** Whether a denoiser is one of the low-rank kind (exact or DAE) built by this library. */
export function isLowRank(d: Denoiser): d is LowRankDenoiser {
  return (d.kind === 'exact' || d.kind === 'dae') && typeof (d as LowRankDenoiser).denoiseWithWeights === 'function';
}
