import type { Prior } from '../types.js';

/** The per-(sample, component) constants of docs/kernels.md, float64. */
export interface ComponentConstants {
  /** phi_k, the gating sharpness. */
  phi: number;
  /** bias_k = log pi_k - (d_k / 2) log1p(alpha_k / beta). */
  bias: number;
  /** h_k, the coefficient of U_k U_k^T x. */
  h: number;
}

/** Coefficient of x itself in the posterior mean: a0 = s delta^2 / beta. */
export function identityCoefficient(s: number, sigma: number, prior: Prior): number {
  const gamma = s * sigma;
  const beta = s * s * prior.delta * prior.delta + gamma * gamma;
  return (s * prior.delta * prior.delta) / beta;
}

/** SPEC section 3 constants of component k (with d_k columns) at (s, sigma). */
export function componentConstants(s: number, sigma: number, k: number, dk: number, prior: Prior): ComponentConstants {
  const gamma = s * sigma;
  const delta2 = prior.delta * prior.delta;
  const beta = s * s * delta2 + gamma * gamma;
  const lambda = prior.lambda[k];
  const alpha = s * s * lambda;
  return {
    phi: alpha / (2 * beta * (alpha + beta)),
    bias: prior.logPi[k] - 0.5 * dk * Math.log1p(alpha / beta),
    h: (s * (lambda + delta2)) / (alpha + beta) - (s * delta2) / beta,
  };
}
