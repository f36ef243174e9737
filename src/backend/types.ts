/**
 * The kernel contract: the one seam between the science layer and the hot loops (DESIGN.md).
 *
 * Three implementations exist: `native` (C++ SIMD addon), `wasm` (AssemblyScript + v128 SIMD) and
 * `js` (plain TypeScript, float64 accumulation, the oracle). They must agree to the tolerances
 * written in test/kernels/cases.ts.
 *
 * Storage rules, shared by every kernel:
 * - Matrices are row-major `Float32Array`s; shapes are passed explicitly; batches are contiguous.
 * - The K bases of a model are stacked side by side as one matrix `U [n, D]`, `D = sum_k d_k`;
 *   component k owns the columns `off_k .. off_k + d_k - 1` with `off_k = d_0 + ... + d_{k-1}`.
 *   Projections `P = X U` are therefore `[B, D]`, the per-sample `p_k` being the same column block.
 * - Per-sample scalars (`s`, `sigma`, `weight`) are `Float32Array [B]`; per-component
 *   hyper-parameters (`logPi`, `lambda`) are `Float64Array [K]`.
 * - Kernels never allocate their outputs: the caller passes them, and the kernel overwrites them.
 *
 * The raw backends assume validated arguments (shapes, lengths, finiteness): validation happens once,
 * in `src/backend/validate.ts`. The native binding re-checks every length anyway so that no call can
 * read or write out of bounds, whatever JavaScript passes.
 */

/** Which implementation of the kernel contract. */
export type BackendName = 'native' | 'wasm' | 'js';

/** The prior of an MoLRG (SPEC section 1): fixed hyper-parameters of the denoiser. */
export interface Prior {
  /** log pi_k, `[K]`. */
  readonly logPi: Float64Array;
  /** lambda_k, the latent variance of component k, `[K]`, > 0. */
  readonly lambda: Float64Array;
  /** delta, the off-subspace noise floor, >= 0. */
  readonly delta: number;
}

/** Options of one Riemannian optimiser step on the Stiefel manifold (SPEC section 4). */
export interface StiefelOptions {
  /** `sgd` (heavy-ball momentum) or `adam`. */
  readonly method: 'sgd' | 'adam';
  /** Learning rate, > 0. */
  readonly lr: number;
  /** Heavy-ball momentum for `sgd`, in [0, 1). */
  readonly momentum: number;
  /** Adam first-moment decay, in [0, 1). */
  readonly beta1: number;
  /** Adam second-moment decay, in [0, 1). */
  readonly beta2: number;
  /** Adam denominator floor, > 0. */
  readonly eps: number;
  /** `qr` (Q of a thin QR with positive diag(R)) or `polar` (A (A^T A)^(-1/2)). */
  readonly retraction: 'qr' | 'polar';
}

/**
 * A set of K stacked bases `U [n, D]` that lives in the backend's own memory (wasm linear memory for
 * `wasm`, so training and sampling never copy the model across the boundary), together with the
 * buffers that belong to it: the gradient written by `lossGrad` and the optimiser moments used by
 * `stiefelStep` (kept in the ambient space, SPEC section 4).
 */
export interface Bases {
  /** Ambient dimension. */
  readonly n: number;
  /** d_k per component, `[K]`. */
  readonly dims: Int32Array;
  /** Number of components. */
  readonly K: number;
  /** Total number of columns, sum of dims. */
  readonly D: number;
  /** A copy of `U [n, D]`. */
  read(): Float32Array;
  /** Overwrite `U [n, D]` (length n * D). Optimiser state is left as it is. */
  write(U: Float32Array): void;
  /**
   * A copy of the last gradient `dL/dU [n, D]` written by `lossGrad` (zeros before the first), into
   * `out` (length n * D, returned) when given, so that a per-step reader allocates nothing.
   */
  readGrad(out?: Float32Array): Float32Array;
  /** Zero the optimiser moments and the step counter. */
  resetOptimizer(): void;
  /** Release backend memory. The object must not be used afterwards. Idempotent. */
  dispose(): void;
}

/**
 * A window of a normal stream (SPEC section 8): element i of the window is element `offset + i` of
 * the stream (`seed`, `stream`), as `Kernels.normals` draws it.
 */
export interface NoiseWindow {
  readonly seed: number;
  readonly stream: number;
  readonly offset: number;
}

/** What `backendInfo()` reports about a backend. */
export interface KernelInfo {
  /** The backend. */
  readonly backend: BackendName;
  /** Instruction set in use: `avx512`, `avx2`, `scalar` (native); `simd128`, `scalar` (wasm); `float64` (js). */
  readonly isa: string;
  /** Worker threads used by the kernels (1 for wasm and js). */
  readonly threads: number;
}

/**
 * The kernel contract. Every method is synchronous and overwrites its outputs; the `async` member
 * offers Promise-returning forms of the long kernels (off the event loop for `native`, resolved
 * immediately elsewhere). Inputs must not be modified until such a promise settles.
 */
export interface Kernels {
  /** Which backend this is, and its ISA / threads. */
  info(): KernelInfo;

  // ---- randomness (SPEC section 8) --------------------------------------------------------------

  /** Philox4x32-10 of M blocks: `counters [M, 4]`, `key [2]` -> `out [M, 4]`. */
  philox(counters: Uint32Array, key: Uint32Array, out: Uint32Array): void;
  /**
   * Words `offset .. offset + out.length - 1` of the stream (seed, stream): word i is word `i mod 4` of
   * the block with counter `(b mod 2^32, floor(b / 2^32), stream, 0)`, `b = floor(i / 4)`, key
   * `(seed mod 2^32, floor(seed / 2^32))`. seed and offset are integers in [0, 2^53), stream in [0, 2^32).
   */
  randomU32(out: Uint32Array, seed: number, stream: number, offset: number): void;
  /** Normals of the same stream: element i comes from block floor(i/4) by Box-Muller (SPEC section 8). */
  normals(out: Float32Array, seed: number, stream: number, offset: number): void;
  /** Uniforms `(w + 0.5) / 2^32` of the same stream, element i from word i. */
  uniforms(out: Float32Array, seed: number, stream: number, offset: number): void;

  // ---- dense linear algebra ---------------------------------------------------------------------

  /**
   * `C [m, n] = alpha * op(A) op(B) + beta * C`, op(A) `[m, k]`, op(B) `[k, n]`; `A` is stored
   * `[m, k]` (or `[k, m]` when transA), `B` `[k, n]` (or `[n, k]` when transB). beta = 0 ignores C's
   * old contents (NaN included).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array,
  ): void;

  /**
   * Thin SVD of a batch: `A [batch, m, n]` -> `U [batch, m, r]`, `S [batch, r]`, `V [batch, n, r]`,
   * `A ~ U diag(S) V^T`, the top r = 1..min(m, n) triplets, S descending. Sign convention: the
   * largest-magnitude entry of each column of U is positive (the first such entry on ties); V follows
   * so that `A v_j = s_j u_j`. Where s_j = 0, u_j and v_j complete orthonormal sets deterministically.
   */
  svd(A: Float32Array, batch: number, m: number, n: number, r: number,
      U: Float32Array, S: Float32Array, V: Float32Array): void;

  /**
   * Symmetric eigendecomposition of a batch `A [batch, n, n]` (only `(A + A^T) / 2` is used):
   * `values [batch, n]` descending, `vectors [batch, n, n]` with eigenvector j in column j, sign
   * convention as for `svd`.
   */
  eigh(A: Float32Array, batch: number, n: number, values: Float32Array, vectors: Float32Array): void;

  /**
   * For each query row the nearest reference row in Euclidean distance:
   * `queries [M, n]`, `refs [N, n]` -> `index [M]` (lowest index on ties), `dist [M]` (not squared).
   */
  nearest(queries: Float32Array, M: number, refs: Float32Array, N: number, n: number,
          index: Int32Array, dist: Float32Array): void;

  // ---- the MoLRG model --------------------------------------------------------------------------

  /** New stacked bases in backend memory: `n`, `dims [K]`, optionally initial `U [n, D]` (else zeros). */
  createBases(n: number, dims: Int32Array, U?: Float32Array): Bases;

  /** Make every block of `bases` orthonormal in place: thin QR with positive diag(R), or polar. */
  retract(bases: Bases, method: 'qr' | 'polar'): void;

  /** Subspace projection `x [B, n]` -> `P [B, D] = x U`. */
  project(x: Float32Array, B: number, bases: Bases, P: Float32Array): void;

  /**
   * Soft-max gating (SPEC section 3): `w[b, k] = softmax_k(bias[b, k] + phi[b, k] * ||P[b, block k]||^2)`
   * computed stably (max subtracted). `P [B, D]`, `dims [K]`, `bias [B, K]`, `phi [B, K]` -> `w [B, K]`.
   */
  gate(P: Float32Array, B: number, dims: Int32Array, bias: Float64Array, phi: Float64Array,
       w: Float32Array): void;

  /**
   * The MoLRG posterior mean E[x0 | x_t] (SPEC section 3) of a batch: `x [B, n]` at per-sample
   * `s [B]`, `sigma [B]` -> `out [B, n]`; the gating weights go to `w [B, K]` when given.
   */
  denoise(x: Float32Array, B: number, bases: Bases, prior: Prior, s: Float32Array,
          sigma: Float32Array, out: Float32Array, w?: Float32Array): void;

  /**
   * Fused diffusion loss and gradient (SPEC section 4) for a minibatch: `x0 [B, n]`, `eps [B, n]`,
   * `s`, `sigma`, `weight` `[B]`; `x_t = s (x0 + sigma eps)`. Returns
   * `L = sum_b weight_b ||E[x0 | x_t] - x0_b||^2` (a sum, not a mean) and stores `dL/dU` in the
   * bases' gradient buffer.
   */
  lossGrad(x0: Float32Array, eps: Float32Array, B: number, s: Float32Array, sigma: Float32Array,
           weight: Float32Array, bases: Bases, prior: Prior): number;

  /**
   * One optimiser step on every block, in place, from the bases' gradient buffer: Riemannian
   * gradient `G - U sym(U^T G)`, SGD-momentum or Adam (step counter kept in the bases), retraction.
   */
  stiefelStep(bases: Bases, options: StiefelOptions): void;

  /**
   * `T` training steps in one call (SPEC section 4). Draw j = t B + b (b = 0..B-1) of minibatch t has
   * `x0` = row `index[j]` of `data [N, n]` and `eps` = the normals `noise.offset + j n .. noise.offset +
   * j n + n - 1` of the stream (`noise.seed`, `noise.stream`) (as `normals` draws them), and `s`,
   * `sigma`, `weight` = entry j of those `[T B]` arrays. For t = 0..T-1, `losses[t]` receives the
   * `lossGrad` loss of minibatch t, then, where `lr [T]` has `lr[t] > 0`, one `stiefelStep` with
   * `options` at learning rate `lr[t]`: the same as those calls made one by one. Returns T, or the
   * first t whose loss or gradient is not finite; no step is taken for it, its loss stays in
   * `losses[t]` and its gradient in the bases' buffer (the validated backend throws a RangeError then).
   */
  trainSteps(data: Float32Array, N: number, index: Int32Array, noise: NoiseWindow, B: number, T: number,
             s: Float32Array, sigma: Float32Array, weight: Float32Array, bases: Bases, prior: Prior,
             options: Omit<StiefelOptions, 'lr'>, lr: Float64Array, losses: Float64Array): number;

  /** Promise-returning forms of the long kernels. */
  readonly async: AsyncKernels;
}

/**
 * The long kernels, returning Promises (native: computed on the libuv pool). The arrays are read when
 * the method is called (native copies them), and the outputs are written when the Promise resolves;
 * an output transferred or resized before then makes the Promise reject.
 */
export interface AsyncKernels {
  gemm(...args: Parameters<Kernels['gemm']>): Promise<void>;
  svd(...args: Parameters<Kernels['svd']>): Promise<void>;
  eigh(...args: Parameters<Kernels['eigh']>): Promise<void>;
  nearest(...args: Parameters<Kernels['nearest']>): Promise<void>;
  denoise(...args: Parameters<Kernels['denoise']>): Promise<void>;
  lossGrad(...args: Parameters<Kernels['lossGrad']>): Promise<number>;
}
