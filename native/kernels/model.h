// The MoLRG kernels (SPEC sections 3-4, docs/kernels.md): stacked bases `U [n, D]`, component k owning
// the columns off_k .. off_k + d_k - 1.
#pragma once

#include <vector>

#include "common.h"

namespace molrg {

/** The block structure of stacked bases. */
struct Blocks {
  idx n = 0, K = 0, D = 0;
  std::vector<idx> dims, off;  // [K] each
  Blocks(idx n, const int32_t* d, idx K);
};

/** The fixed prior: logPi [K], lambda [K], delta. */
struct Prior {
  const double* logPi;
  const double* lambda;
  double delta;
};

/** Per-sample, per-component constants of docs/kernels.md (float64): phi, bias, h [K] and a0. */
void sampleConstants(const Blocks& bl, const Prior& pr, double s, double sigma, double* phi,
                     double* bias, double* h, double* a0);

/** Softmax gating of one sample into `w [K]` (float64): `softmax(bias + phi ||p_k||^2)`, max subtracted. */
void gateRow(const Blocks& bl, const float* p, const double* bias, const double* phi, double* w);

/** `x [B, n]` -> `P [B, D] = x U`. */
void project(const float* x, idx B, const Blocks& bl, const float* U, float* P);

/** `P [B, D]`, `bias [B, K]`, `phi [B, K]` -> `w [B, K]`. */
void gate(const float* P, idx B, const Blocks& bl, const double* bias, const double* phi, float* w);

/** Posterior mean `x [B, n]` at `s, sigma [B]` -> `out [B, n]`, gating weights to `w [B, K]` if not null. */
void denoise(const float* x, idx B, const Blocks& bl, const float* U, const Prior& pr, const float* s,
             const float* sigma, float* out, float* w);

/** Fused loss `sum_b weight_b ||E[x0 | x_t] - x0_b||^2` (returned) and gradient `grad [n, D]`. */
double lossGrad(const float* x0, const float* eps, idx B, const float* s, const float* sigma,
                const float* weight, const Blocks& bl, const float* U, const Prior& pr, float* grad);

/** Options of one optimiser step. */
struct StiefelOptions {
  bool adam;
  double lr, momentum, beta1, beta2, eps;
  bool polar;
};

/** Make every block of `U [n, D]` orthonormal in place (QR with positive diag(R), or polar). */
void retract(const Blocks& bl, float* U, bool polar);

/**
 * One Riemannian step on every block from `G [n, D]`: tangent projection, SGD-momentum (`m`) or Adam
 * (`m`, `v`, step `t` already incremented), retraction.
 */
void stiefelStep(const Blocks& bl, float* U, const float* G, float* m, float* v, double t,
                 const StiefelOptions& o);

/**
 * Whether `lossGrad` of a B-sample minibatch takes the per-sample path, which runs on the calling
 * thread alone (narrow models, small batches).
 */
bool lossGradSerial(const Blocks& bl, idx B);

/**
 * The draws of `trainSteps`: draw j (0 <= j < T B) has x0 = row `index[j]` of `X` (row j of `X [T B, n]`
 * when `index` is null; the indices are in [0, N)) and eps = row j of `eps [T B, n]`, or, when `eps` is
 * null, the normals `offset + j n .. offset + j n + n - 1` of the stream (seed, stream).
 */
struct TrainDraws {
  const float* X;
  const int32_t* index;
  const float* eps;
  uint64_t seed;
  uint32_t stream;
  uint64_t offset;
};

/**
 * `T` training steps: for minibatch t (draws t B .. t B + B - 1 of `d`, entries t B .. of `s`, `sigma`,
 * `weight` `[T B]`) `losses[t] = lossGrad(...)`, then, where `lr[t] > 0`, a stiefelStep at learning
 * rate `lr[t]` (Adam: `t` counts the steps taken before, each step adds one). Returns T, or the first
 * t whose loss or gradient is not finite (no step taken for it; its gradient stays in `G`).
 */
idx trainSteps(const TrainDraws& d, idx B, idx T, const float* s, const float* sigma, const float* weight,
               const Blocks& bl, float* U, const Prior& pr, float* G, float* m, float* v, double t, StiefelOptions o,
               const double* lr, double* losses);

/**
 * The posterior-mean coefficients of rows b0..b1 of `P [B, ld]` (`P = x U` in its first D columns;
 * denoise and lossGrad): the per-sample constants phi, h, the gating weights w (`[B, K]` each) and a0
 * (`[B]`), all float64, and `PC [B, ld]`, `PC[b, j] = w_k h_k P[b, j]` (j < D). The posterior mean is
 * `a0 x + PC U^T`. `bias [K]` is scratch.
 */
void gateRows(const float* P, idx ld, idx b0, idx b1, const Blocks& bl, const Prior& pr, const float* s,
              const float* sigma, float* PC, double* phi, double* h, double* w, double* a0, double* bias);

}  // namespace molrg
