#include "eigh.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "linalg.h"
#include "parallel.h"
#include "vec.h"

namespace molrg {

namespace {

// Above this order, Householder tridiagonalisation + implicit QL replaces cyclic Jacobi: Jacobi's
// sweeps cost about 10 x 6 n^3 flops with strided column updates (n = 256 took 0.64 s), tridiagonal QL
// about 4/3 n^3 + 3 n^3 (n = 256: 48 ms). At n <= 32 Jacobi is as fast and more accurate for tiny values.
constexpr idx kJacobiMaxN = 32;

// Householder reduction of the symmetric `W [n, n]` to tridiagonal T: diagonal `d`, subdiagonal
// `e[1..n-1]` (e[0] = 0); W is overwritten by Z^T, where A = Z T Z^T. EISPACK tred2 in the formulation
// of JAMA (public domain), with every access V[a][b] of JAMA's V = Z written as W[b][a], so that the
// inner loops run along rows (JAMA's column walks made n = 256 four times slower).
void tred2(double* W, idx n, double* d, double* e) {
  for (idx j = 0; j < n; j++) d[j] = W[j * n + n - 1];
  for (idx i = n - 1; i > 0; i--) {
    double scale = 0.0, h = 0.0;
    for (idx k = 0; k < i; k++) scale += std::fabs(d[k]);
    if (scale == 0.0) {
      e[i] = d[i - 1];
      for (idx j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1];
        W[j * n + i] = 0.0;
        W[i * n + j] = 0.0;
      }
    } else {
      for (idx k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1];
      double g = std::sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (idx j = 0; j < i; j++) e[j] = 0.0;
      for (idx j = 0; j < i; j++) {
        f = d[j];
        W[i * n + j] = f;
        g = e[j] + W[j * n + j] * f;
        for (idx k = j + 1; k <= i - 1; k++) {
          g += W[j * n + k] * d[k];
          e[k] += W[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (idx j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const double hh = f / (h + h);
      for (idx j = 0; j < i; j++) e[j] -= hh * d[j];
      for (idx j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (idx k = j; k <= i - 1; k++) W[j * n + k] -= (f * e[k] + g * d[k]);
        d[j] = W[j * n + i - 1];
        W[j * n + i] = 0.0;
      }
    }
    d[i] = h;
  }
  for (idx i = 0; i < n - 1; i++) {  // accumulate the transformations
    W[i * n + n - 1] = W[i * n + i];
    W[i * n + i] = 1.0;
    const double h = d[i + 1];
    if (h != 0.0) {
      for (idx k = 0; k <= i; k++) d[k] = W[(i + 1) * n + k] / h;
      for (idx j = 0; j <= i; j++) {
        double g = 0.0;
        for (idx k = 0; k <= i; k++) g += W[(i + 1) * n + k] * W[j * n + k];
        for (idx k = 0; k <= i; k++) W[j * n + k] -= g * d[k];
      }
    }
    for (idx k = 0; k <= i; k++) W[(i + 1) * n + k] = 0.0;
  }
  for (idx j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1];
    W[j * n + n - 1] = 0.0;
  }
  W[(n - 1) * n + n - 1] = 1.0;
  e[0] = 0.0;
}

// Implicit QL with Wilkinson-like shifts on the tridiagonal (d, e) from tred2 (EISPACK tql2 as in
// JAMA); the rotations are applied to the rows of `Vt` (= Z^T, so eigenvector j ends in row j).
void tql2(double* Vt, idx n, double* d, double* e) {
  for (idx i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  const double eps = std::ldexp(1.0, -52);
  for (idx l = 0; l < n; l++) {
    tst1 = std::max(tst1, std::fabs(d[l]) + std::fabs(e[l]));
    idx m = l;
    while (m < n - 1 && !(std::fabs(e[m]) <= eps * tst1)) m++;
    if (m > l) {
      for (int iter = 0; iter < 64; iter++) {  // converges in 2-3 per value; the cap guards NaN
        double g = d[l];
        double p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = std::hypot(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (idx i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1.0, c2 = c, c3 = c, s = 0.0, s2 = 0.0;
        const double el1 = e[l + 1];
        for (idx i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // (v_i, v_{i+1}) <- (c v_i - s v_{i+1}, s v_i + c v_{i+1})
          drot(Vt + i * n, Vt + (i + 1) * n, n, c, s);
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(std::fabs(e[l]) > eps * tst1)) break;
      }
    }
    d[l] += f;
    e[l] = 0.0;
  }
}

// Eigen-decomposition of the symmetric `S [n, n]` (destroyed) by tridiagonal QL: values unsorted,
// eigenvector j in row j of `Vt`; `e [n]` scratch.
void tridiagonalEigen(double* S, idx n, double* values, double* Vt, double* e) {
  tred2(S, n, values, e);
  std::copy(S, S + n * n, Vt);
  tql2(Vt, n, values, e);
}

}  // namespace

void eighBatched(const float* A, idx batch, idx n, float* values, float* vectors) {
  parallelFor(batch, [&](idx b0, idx b1) {
    std::vector<double> S(static_cast<size_t>(n * n)), Vt(static_cast<size_t>(n * n)), w(static_cast<size_t>(n)),
        e(static_cast<size_t>(n));
    std::vector<idx> order(static_cast<size_t>(n));
    for (idx b = b0; b < b1; b++) {
      const float* a = A + b * n * n;
      for (idx i = 0; i < n; i++) {
        for (idx j = 0; j < n; j++) S[i * n + j] = 0.5 * (static_cast<double>(a[i * n + j]) + a[j * n + i]);
      }
      if (n <= kJacobiMaxN) {
        jacobiEigen(S.data(), n, w.data(), Vt.data());
      } else {
        tridiagonalEigen(S.data(), n, w.data(), Vt.data(), e.data());
      }
      orderDescending(w.data(), n, order.data());
      float* val = values + b * n;
      float* vec = vectors + b * n * n;
      for (idx t = 0; t < n; t++) {
        const double* v = Vt.data() + order[t] * n;
        const double sign = needsFlip(v, n) ? -1.0 : 1.0;
        val[t] = static_cast<float>(w[order[t]]);
        for (idx i = 0; i < n; i++) vec[i * n + t] = static_cast<float>(sign * v[i]);
      }
    }
  });
}

}  // namespace molrg
