// project: subspace projection x [B, n], U [n, D] -> P [B, D] = x U (a GEMM).
import { gemm } from './gemm';

export function project(x: usize, B: i32, n: i32, U: usize, D: i32, P: usize): void {
  gemm(false, false, B, D, n, 1, x, U, 0, P);
}
