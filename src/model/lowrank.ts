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

/** The backend copy of the stacked bases, re-created when the active backend changes. */
interface Holder {
  kernels?: Kernels;
  bases?: Bases;
}

const registry = new FinalizationRegistry<Holder>((h) => h.bases?.dispose());

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
    },
  };
  registry.register(denoiser, holder);
  trusted.set(denoiser, kernel);
  return denoiser;
}

/**
 * The `denoise` kernel of a low-rank denoiser without the argument checks of `denoise`: for library
 * loops (the samplers) that pass rows they produced themselves, `B >= 1` of them, levels from
 * `levels`, and reuse their output buffers.
 */
export type TrustedDenoise = (x: Float32Array, B: number, s: Float32Array, sigma: Float32Array, out: Float32Array, w?: Float32Array) => void;

const trusted = new WeakMap<Denoiser, TrustedDenoise>();

/** The unchecked kernel of a denoiser built by `lowRankDenoiser`, or undefined for any other denoiser. */
export function trustedDenoise(d: Denoiser): TrustedDenoise | undefined {
  return trusted.get(d);
}

/** Whether a denoiser is one of the low-rank kind (exact or DAE) built by this library. */
export function isLowRank(d: Denoiser): d is LowRankDenoiser {
  return (d.kind === 'exact' || d.kind === 'dae') && typeof (d as LowRankDenoiser).denoiseWithWeights === 'function';
}
