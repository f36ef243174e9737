// Raw-pointer entry points of the molrg WASM backend; src/backend/wasm.ts is the adapter.
// Pointers are byte offsets into this module's memory (come back signed in JS: use `>>> 0`); sizes are
// element counts; booleans and enums are i32. The only import is env.abort.
import { philox as philoxKernel, randomU32 as randomU32Kernel, normals as normalsKernel,
         uniforms as uniformsKernel } from './philox';
import { gemm as gemmKernel } from './gemm';
import { svd as svdKernel } from './svd';
import { eigh as eighKernel } from './eigh';
import { nearest as nearestKernel } from './nearest';
import { project as projectKernel } from './project';
import { gate as gateKernel } from './gate';
import { denoise as denoiseKernel } from './denoise';
import { lossGrad as lossGradKernel } from './lossgrad';
import { stiefelStep as stiefelStepKernel, retract as retractKernel } from './stiefel';
import { trainSteps as trainStepsKernel } from './train';
import { work, SLOT_MISC } from './scratch';

/** Unmanaged, 16-byte aligned allocation of `bytes` bytes (release with `free`). */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** 1 when built with v128 SIMD, else 0. */
export function simd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

export function philox(counters: usize, M: i32, k0: u32, k1: u32, out: usize): void {
  philoxKernel(counters, M, k0, k1, out);
}

export function randomU32(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  randomU32Kernel(out, count, seed, stream, offset);
}

export function normals(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  normalsKernel(out, count, seed, stream, offset);
}

export function uniforms(out: usize, count: i32, seed: f64, stream: u32, offset: f64): void {
  uniformsKernel(out, count, seed, stream, offset);
}

export function gemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32, A: usize, B: usize,
                     beta: f32, C: usize): void {
  gemmKernel(transA != 0, transB != 0, m, n, k, alpha, A, B, beta, C);
}

export function svd(A: usize, batch: i32, m: i32, n: i32, r: i32, U: usize, S: usize, V: usize): void {
  svdKernel(A, batch, m, n, r, U, S, V);
}

export function eigh(A: usize, batch: i32, n: i32, values: usize, vectors: usize): void {
  eighKernel(A, batch, n, values, vectors);
}

export function nearest(queries: usize, M: i32, refs: usize, N: i32, n: i32, index: usize, dist: usize): void {
  nearestKernel(queries, M, refs, N, n, index, dist);
}

export function project(x: usize, B: i32, n: i32, U: usize, D: i32, P: usize): void {
  projectKernel(x, B, n, U, D, P);
}

export function gate(P: usize, B: i32, D: i32, dims: usize, K: i32, bias: usize, phi: usize, w: usize): void {
  gateKernel(P, B, D, dims, K, bias, phi, w, work(SLOT_MISC, <usize>K << 3));
}

export function denoise(x: usize, B: i32, n: i32, U: usize, D: i32, dims: usize, K: i32, logPi: usize,
                        lambda: usize, delta: f64, s: usize, sigma: usize, out: usize, w: usize): void {
  denoiseKernel(x, B, n, U, D, dims, K, logPi, lambda, delta, s, sigma, out, w);
}

export function lossGrad(x0: usize, eps: usize, B: i32, n: i32, s: usize, sigma: usize, weight: usize,
                         U: usize, D: i32, dims: usize, K: i32, logPi: usize, lambda: usize, delta: f64,
                         G: usize): f64 {
  return lossGradKernel(x0, eps, B, n, s, sigma, weight, U, D, dims, K, logPi, lambda, delta, G);
}

export function stiefelStep(U: usize, G: usize, M: usize, V: usize, n: i32, D: i32, dims: usize, K: i32,
                            method: i32, lr: f64, momentum: f64, beta1: f64, beta2: f64, eps: f64, t: f64,
                            retraction: i32): void {
  stiefelStepKernel(U, G, M, V, n, D, dims, K, method, lr, momentum, beta1, beta2, eps, t, retraction);
}

export function trainSteps(x0: usize, eps: usize, B: i32, T: i32, n: i32, s: usize, sigma: usize, weight: usize,
                           U: usize, G: usize, M: usize, V: usize, D: i32, dims: usize, K: i32, logPi: usize,
                           lambda: usize, delta: f64, method: i32, momentum: f64, beta1: f64, beta2: f64,
                           adamEps: f64, t: f64, retraction: i32, lr: usize, losses: usize): i32 {
  return trainStepsKernel(x0, eps, B, T, n, s, sigma, weight, U, G, M, V, D, dims, K, logPi, lambda, delta, method,
                          momentum, beta1, beta2, adamEps, t, retraction, lr, losses);
}

export function retract(U: usize, n: i32, D: i32, dims: usize, K: i32, method: i32): void {
  retractKernel(U, n, D, dims, K, method);
}
