#include "gemm.h"
#include "model.h"

namespace molrg {

Blocks::Blocks(idx n_, const int32_t* d, idx K_) : n(n_), K(K_), dims(K_), off(K_) {
  for (idx k = 0; k < K; k++) {
    dims[k] = d[k];
    off[k] = D;
    D += d[k];
  }
}

// x [B, n], U [n, D] -> P [B, D]: one GEMM.
void project(const float* x, idx B, const Blocks& bl, const float* U, float* P) {
  sgemm(false, false, B, bl.D, bl.n, 1.0f, x, bl.n, U, bl.D, 0.0f, P, bl.D);
}

}  // namespace molrg
