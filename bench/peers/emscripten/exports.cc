// The C ABI of the emscripten build of native/kernels: the same export names and signatures as the
// AssemblyScript module (wasm/assembly/index.ts), so that src/backend/wasm.ts drives either module.
// Pointers are byte offsets into linear memory, sizes are element counts, booleans and enums are i32.
// Arguments are validated by the TypeScript facade (src/backend/validate.ts) before they get here.
#include <cstdint>
#include <cstdlib>

#include "../../../native/kernels/eigh.h"
#include "../../../native/kernels/gemm.h"
#include "../../../native/kernels/model.h"
#include "../../../native/kernels/nearest.h"
#include "../../../native/kernels/parallel.h"
#include "../../../native/kernels/philox.h"
#include "../../../native/kernels/svd.h"

using molrg::idx;

namespace {

molrg::Prior prior(const double* logPi, const double* lambda, double delta) { return {logPi, lambda, delta}; }

// Built without pthreads: one thread, so every parallel region runs inline (as with MOLRG_THREADS=1).
const bool singleThreaded = (molrg::setThreadCount(1), true);

}  // namespace

#define EXPORT extern "C" __attribute__((used, visibility("default")))

/** 16-byte aligned allocation of `bytes` bytes (release with `free`); 0 when out of memory. */
EXPORT void* alloc(uint32_t bytes) {
  if (bytes > UINT32_MAX - 15u) return nullptr;  // the rounding below would wrap
  return std::aligned_alloc(16, (bytes + 15u) / 16u * 16u);
}

// `free` is libc's own, exported by the build.

/** 1 when built with v128 SIMD, else 0. */
EXPORT int32_t simd() {
#ifdef __wasm_simd128__
  return 1;
#else
  return 0;
#endif
}

EXPORT void philox(const uint32_t* counters, int32_t M, uint32_t k0, uint32_t k1, uint32_t* out) {
  const uint32_t key[2] = {k0, k1};
  molrg::philox(counters, M, key, out);
}

EXPORT void randomU32(uint32_t* out, int32_t count, double seed, uint32_t stream, double offset) {
  molrg::randomU32(out, count, static_cast<uint64_t>(seed), stream, static_cast<uint64_t>(offset));
}

EXPORT void normals(float* out, int32_t count, double seed, uint32_t stream, double offset) {
  molrg::normals(out, count, static_cast<uint64_t>(seed), stream, static_cast<uint64_t>(offset));
}

EXPORT void uniforms(float* out, int32_t count, double seed, uint32_t stream, double offset) {
  molrg::uniforms(out, count, static_cast<uint64_t>(seed), stream, static_cast<uint64_t>(offset));
}

EXPORT void gemm(int32_t transA, int32_t transB, int32_t m, int32_t n, int32_t k, float alpha, const float* A,
                 const float* B, float beta, float* C) {
  molrg::sgemm(transA != 0, transB != 0, m, n, k, alpha, A, transA ? m : k, B, transB ? k : n, beta, C, n);
}

EXPORT void svd(const float* A, int32_t batch, int32_t m, int32_t n, int32_t r, float* U, float* S, float* V) {
  molrg::svdBatched(A, batch, m, n, r, U, S, V);
}

EXPORT void eigh(const float* A, int32_t batch, int32_t n, float* values, float* vectors) {
  molrg::eighBatched(A, batch, n, values, vectors);
}

EXPORT void nearest(const float* queries, int32_t M, const float* refs, int32_t N, int32_t n, int32_t* index,
                    float* dist) {
  molrg::nearest(queries, M, refs, N, n, index, dist);
}

EXPORT void project(const float* x, int32_t B, int32_t n, const float* U, int32_t D, float* P) {
  const int32_t dims[1] = {D};  // project only needs n and D
  molrg::project(x, B, molrg::Blocks(n, dims, 1), U, P);
}

EXPORT void gate(const float* P, int32_t B, int32_t D, const int32_t* dims, int32_t K, const double* bias,
                 const double* phi, float* w) {
  (void)D;  // the sum of dims
  molrg::gate(P, B, molrg::Blocks(0, dims, K), bias, phi, w);
}

EXPORT void denoise(const float* x, int32_t B, int32_t n, const float* U, int32_t D, const int32_t* dims, int32_t K,
                    const double* logPi, const double* lambda, double delta, const float* s, const float* sigma,
                    float* out, float* w) {
  (void)D;
  molrg::denoise(x, B, molrg::Blocks(n, dims, K), U, prior(logPi, lambda, delta), s, sigma, out, w);
}

EXPORT double lossGrad(const float* x0, const float* eps, int32_t B, int32_t n, const float* s, const float* sigma,
                       const float* weight, const float* U, int32_t D, const int32_t* dims, int32_t K,
                       const double* logPi, const double* lambda, double delta, float* G) {
  (void)D;
  return molrg::lossGrad(x0, eps, B, s, sigma, weight, molrg::Blocks(n, dims, K), U, prior(logPi, lambda, delta), G);
}

EXPORT void stiefelStep(float* U, const float* G, float* M, float* V, int32_t n, int32_t D, const int32_t* dims,
                        int32_t K, int32_t method, double lr, double momentum, double beta1, double beta2, double eps,
                        double t, int32_t retraction) {
  (void)D;
  const molrg::StiefelOptions o{method == 1, lr, momentum, beta1, beta2, eps, retraction == 1};
  molrg::stiefelStep(molrg::Blocks(n, dims, K), U, G, M, V, t, o);
}

EXPORT int32_t trainSteps(const float* x0, const float* eps, int32_t B, int32_t T, int32_t n, const float* s,
                          const float* sigma, const float* weight, float* U, float* G, float* M, float* V, int32_t D,
                          const int32_t* dims, int32_t K, const double* logPi, const double* lambda, double delta,
                          int32_t method, double momentum, double beta1, double beta2, double adamEps, double t,
                          int32_t retraction, const double* lr, double* losses) {
  (void)D;
  const molrg::StiefelOptions o{method == 1, 0.0, momentum, beta1, beta2, adamEps, retraction == 1};
  const molrg::TrainDraws d{x0, nullptr, eps, 0, 0, 0};
  return static_cast<int32_t>(molrg::trainSteps(d, B, T, s, sigma, weight, molrg::Blocks(n, dims, K), U,
                                                prior(logPi, lambda, delta), G, M, V, t, o, lr, losses));
}

EXPORT void retract(float* U, int32_t n, int32_t D, const int32_t* dims, int32_t K, int32_t method) {
  (void)D;
  molrg::retract(molrg::Blocks(n, dims, K), U, method == 1);
}
