// The one N-API file: converts JavaScript arguments, re-checks every length and shape (so that no
// call reads or writes out of bounds, whatever JavaScript passes: it throws a TypeError/RangeError
// instead), and runs each kernel call as a Job, either now (sync) or on the libuv pool (async,
// Promise-returning). The kernels themselves (kernels/) know nothing about N-API.
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "kernels/common.h"
#include "kernels/eigh.h"
#include "kernels/gemm.h"
#include "kernels/model.h"
#include "kernels/nearest.h"
#include "kernels/parallel.h"
#include "kernels/philox.h"
#include "kernels/svd.h"

namespace {

using molrg::idx;

// ---- argument checking ---------------------------------------------------------------------------

constexpr double kMaxDim = 2147483647.0;         // every size fits an int32
constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

std::string describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return v.As<Napi::Boolean>().Value() ? "true" : "false";
    case napi_number: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v.As<Napi::Number>().DoubleValue());
      return buf;
    }
    case napi_string: {
      std::string s = v.As<Napi::String>().Utf8Value();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "'" + s + "'";
    }
    case napi_function: return "a function";
    case napi_object: {
      if (v.IsTypedArray()) {
        static const char* names[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray",
                                      "Int16Array",   "Uint16Array",  "Int32Array",
                                      "Uint32Array",  "Float32Array", "Float64Array",
                                      "BigInt64Array", "BigUint64Array"};
        Napi::TypedArray t = v.As<Napi::TypedArray>();
        const int type = static_cast<int>(t.TypedArrayType());
        const char* name = type >= 0 && type < 11 ? names[type] : "a typed array";
        return std::string(name) + " of length " + std::to_string(t.ElementLength());
      }
      if (v.IsArray()) return "an Array";
      return "an object";
    }
    default: return "a value of another type";
  }
}

[[noreturn]] void typeError(Napi::Env env, const std::string& what, const char* name, const Napi::Value& got) {
  throw Napi::TypeError::New(env, "Expected " + what + " for " + name + " but received " + describe(got));
}

[[noreturn]] void rangeError(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

size_t elementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 4;
  }
}

// A word-wise digest of a buffer: tells whether a kernel wrote to a private copy. Every step is a
// bijection of the state, so a change of any one word always changes the digest.
uint64_t digest(const unsigned char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  auto mix = [&h](uint64_t w) {
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    mix(w);
  }
  uint64_t tail = 0;
  if (i < n) std::memcpy(&tail, p + i, n - i);
  mix(tail);
  return h;
}

// One kernel call: arguments already checked; execute() is plain C++ (runs on any thread).
//
// An async call runs while JavaScript goes on, and N-API cannot stop JavaScript from writing to,
// transferring (detaching) or resizing an array meanwhile: a kernel working in the caller's memory
// could then read or write memory that is no longer the array's. So an async job works on private
// copies made when it is called; when it finishes (on the main thread) the copies the kernel changed
// are written back, unless their array was detached or resized meanwhile: then the Promise rejects.
struct Job {
  struct Copy {
    Napi::ObjectReference array;  // keeps the typed array alive until the copy is written back
    std::unique_ptr<std::max_align_t[]> data;
    size_t bytes;
    uint64_t digest;  // of the data as copied in
  };

  virtual ~Job() = default;
  virtual void execute() = 0;
  virtual Napi::Value result(Napi::Env env) { return env.Undefined(); }

  void* keepCopy(Napi::TypedArray array, const void* from, size_t bytes) {
    Copy c{Napi::Persistent(static_cast<Napi::Object>(array)),
           std::unique_ptr<std::max_align_t[]>(new std::max_align_t[(bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t)]),
           bytes, 0};
    std::memcpy(c.data.get(), from, bytes);
    c.digest = digest(reinterpret_cast<const unsigned char*>(c.data.get()), bytes);
    copies.push_back(std::move(c));
    return copies.back().data.get();
  }

  // Writes the changed copies back; a message when an array the kernel wrote is no longer there.
  std::string writeBack() {
    for (Copy& c : copies) {
      const unsigned char* d = reinterpret_cast<const unsigned char*>(c.data.get());
      if (digest(d, c.bytes) == c.digest) continue;  // an input: not written by the kernel
      // The element pointer straight from napi_get_typedarray_info: the array may view an ArrayBuffer
      // or a SharedArrayBuffer, and a detached one reports length 0.
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      const napi_status status = napi_get_typedarray_info(c.array.Env(), c.array.Value(), &type, &length, &data, nullptr, nullptr);
      if (status != napi_ok || data == nullptr || length * elementSize(type) != c.bytes) {
        return "molrg native: an output array of an async call was detached or resized before the call "
               "finished (do not transfer or resize the arrays of a pending Promise); its results are lost";
      }
      std::memcpy(data, d, c.bytes);
    }
    return {};
  }

  std::vector<Copy> copies;  // async only
};

class Args {
 public:
  // copy: give the job private copies of the arrays (async calls, see Job).
  Args(const Napi::CallbackInfo& info, Job& job, bool copy = false) : info_(info), job_(job), copy_(copy) {}

  Napi::Env env() const { return info_.Env(); }
  Napi::Value at(size_t i) const { return i < info_.Length() ? info_[i] : env().Undefined(); }

  double number(size_t i, const char* name) const {
    Napi::Value v = at(i);
    if (!v.IsNumber()) typeError(env(), "a number", name, v);
    return v.As<Napi::Number>().DoubleValue();
  }

  double finite(size_t i, const char* name) const {
    const double d = number(i, name);
    if (!std::isfinite(d)) typeError(env(), "a finite number", name, at(i));
    return d;
  }

  // An integer in [lo, hi].
  double integer(size_t i, const char* name, double lo, double hi) const {
    Napi::Value v = at(i);
    const double d = number(i, name);
    if (!(d >= lo && d <= hi) || std::trunc(d) != d) {
      char what[96];
      std::snprintf(what, sizeof what, "an integer in [%.17g, %.17g]", lo, hi);
      throw Napi::RangeError::New(env(), std::string("Expected ") + what + " for " + name + " but received " + describe(v));
    }
    return d;
  }

  idx size(size_t i, const char* name, double lo = 0) const {
    return static_cast<idx>(integer(i, name, lo, kMaxDim));
  }

  bool boolean(size_t i, const char* name) const {
    Napi::Value v = at(i);
    if (!v.IsBoolean()) typeError(env(), "a boolean", name, v);
    return v.As<Napi::Boolean>().Value();
  }

  std::string choice(size_t i, const char* name, const char* a, const char* b) const {
    Napi::Value v = at(i);
    const std::string what = std::string("'") + a + "' or '" + b + "'";
    if (!v.IsString()) typeError(env(), what, name, v);
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s != a && s != b) typeError(env(), what, name, v);
    return s;
  }

  // A typed array of element type T; its length is checked with `length`.
  template <class T>
  T* array(size_t i, const char* name, napi_typedarray_type type, const char* typeName, size_t* length) const {
    Napi::Value v = at(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
      typeError(env(), std::string("a ") + typeName, name, v);
    }
    Napi::TypedArrayOf<T> t = v.As<Napi::TypedArrayOf<T>>();
    *length = t.ElementLength();
    if (*length == 0) return nullptr;
    return copy_ ? static_cast<T*>(job_.keepCopy(t, t.Data(), *length * sizeof(T))) : t.Data();
  }

  template <class T>
  T* exact(size_t i, const char* name, napi_typedarray_type type, const char* typeName, uint64_t want,
           const char* shape) const {
    size_t len;
    T* p = array<T>(i, name, type, typeName, &len);
    if (len != want) {
      rangeError(env(), std::string("Expected a ") + typeName + " of length " + std::to_string(want) + " (" + shape +
                            ") for " + name + " but received " + describe(at(i)));
    }
    return p;
  }

  float* f32(size_t i, const char* name, uint64_t want, const char* shape) const {
    return exact<float>(i, name, napi_float32_array, "Float32Array", want, shape);
  }
  double* f64(size_t i, const char* name, uint64_t want, const char* shape) const {
    return exact<double>(i, name, napi_float64_array, "Float64Array", want, shape);
  }
  int32_t* i32(size_t i, const char* name, uint64_t want, const char* shape) const {
    return exact<int32_t>(i, name, napi_int32_array, "Int32Array", want, shape);
  }
  uint32_t* u32(size_t i, const char* name, uint64_t want, const char* shape) const {
    return exact<uint32_t>(i, name, napi_uint32_array, "Uint32Array", want, shape);
  }

  bool present(size_t i) const {
    Napi::Value v = at(i);
    return !v.IsUndefined() && !v.IsNull();
  }

  // dims [K] with 1 <= d_k <= n, K >= 1.
  molrg::Blocks blocks(size_t i, idx n) const {
    size_t K;
    const int32_t* d = array<int32_t>(i, "dims", napi_int32_array, "Int32Array", &K);
    if (K == 0) rangeError(env(), "Expected a non-empty Int32Array for dims but received " + describe(at(i)));
    uint64_t D = 0;
    for (size_t k = 0; k < K; k++) {
      D += d[k] > 0 ? static_cast<uint64_t>(d[k]) : 0;
      if (d[k] < 1 || d[k] > n) {
        rangeError(env(), "Expected every dims[k] in [1, n = " + std::to_string(n) + "] for dims but dims[" +
                              std::to_string(k) + "] is " + std::to_string(d[k]));
      }
    }
    if (D > static_cast<uint64_t>(kMaxDim)) rangeError(env(), "Expected sum(dims) <= 2^31 - 1 for dims");
    return molrg::Blocks(n, d, static_cast<idx>(K));
  }

 private:
  const Napi::CallbackInfo& info_;
  Job& job_;
  bool copy_;
};

// Checked products of sizes (the binding's defence against overflow in m * n * k).
uint64_t mul(Napi::Env env, std::initializer_list<uint64_t> xs) {
  uint64_t p = 1;
  for (uint64_t x : xs) {
    if (__builtin_mul_overflow(p, x, &p) || p > static_cast<uint64_t>(kMaxSafe)) {
      rangeError(env, "Array shape too large: the product of the sizes exceeds 2^53");
    }
  }
  return p;
}

// ---- jobs ----------------------------------------------------------------------------------------

struct PhiloxJob : Job {
  const uint32_t *counters, *key;
  uint32_t* out;
  idx M;
  void execute() override { molrg::philox(counters, M, key, out); }
};

std::unique_ptr<Job> parsePhilox(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<PhiloxJob>();
  Args a(info, *j, copy);
  size_t len;
  j->counters = a.array<uint32_t>(0, "counters", napi_uint32_array, "Uint32Array", &len);
  if (len % 4 != 0) rangeError(a.env(), "Expected a Uint32Array of length 4 M for counters but received " + describe(a.at(0)));
  j->M = static_cast<idx>(len / 4);
  j->key = a.u32(1, "key", 2, "[2]");
  j->out = a.u32(2, "out", len, "[M, 4] like counters");
  return j;
}

// randomU32 / normals / uniforms share the stream arguments (out, seed, stream, offset).
template <class T, void (*Fn)(T*, idx, uint64_t, uint32_t, uint64_t)>
struct StreamJob : Job {
  T* out;
  idx count;
  uint64_t seed, offset;
  uint32_t stream;
  void execute() override { Fn(out, count, seed, stream, offset); }
};

template <class T, napi_typedarray_type Type, void (*Fn)(T*, idx, uint64_t, uint32_t, uint64_t)>
std::unique_ptr<Job> parseStream(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<StreamJob<T, Fn>>();
  Args a(info, *j, copy);
  size_t len;
  j->out = a.array<T>(0, "out", Type, Type == napi_uint32_array ? "Uint32Array" : "Float32Array", &len);
  j->count = static_cast<idx>(len);
  j->seed = static_cast<uint64_t>(a.integer(1, "seed", 0, kMaxSafe));
  j->stream = static_cast<uint32_t>(a.integer(2, "stream", 0, 4294967295.0));
  j->offset = static_cast<uint64_t>(a.integer(3, "offset", 0, kMaxSafe));
  return j;
}

struct GemmJob : Job {
  bool tA, tB;
  idx m, n, k;
  float alpha, beta;
  const float *A, *B;
  float* C;
  void execute() override {
    molrg::sgemm(tA, tB, m, n, k, alpha, A, tA ? m : k, B, tB ? k : n, beta, C, n);
  }
};

std::unique_ptr<Job> parseGemm(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<GemmJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->tA = a.boolean(0, "transA");
  j->tB = a.boolean(1, "transB");
  j->m = a.size(2, "m");
  j->n = a.size(3, "n");
  j->k = a.size(4, "k");
  j->alpha = static_cast<float>(a.number(5, "alpha"));
  j->A = a.f32(6, "A", mul(env, {uint64_t(j->m), uint64_t(j->k)}), j->tA ? "[k, m]" : "[m, k]");
  j->B = a.f32(7, "B", mul(env, {uint64_t(j->k), uint64_t(j->n)}), j->tB ? "[n, k]" : "[k, n]");
  j->beta = static_cast<float>(a.number(8, "beta"));
  j->C = a.f32(9, "C", mul(env, {uint64_t(j->m), uint64_t(j->n)}), "[m, n]");
  return j;
}

struct SvdJob : Job {
  const float* A;
  idx batch, m, n, r;
  float *U, *S, *V;
  void execute() override { molrg::svdBatched(A, batch, m, n, r, U, S, V); }
};

std::unique_ptr<Job> parseSvd(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<SvdJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->batch = a.size(1, "batch");
  j->m = a.size(2, "m", 1);
  j->n = a.size(3, "n", 1);
  j->r = static_cast<idx>(a.integer(4, "r", 1, static_cast<double>(std::min(j->m, j->n))));
  const uint64_t b = static_cast<uint64_t>(j->batch);
  j->A = a.f32(0, "A", mul(env, {b, uint64_t(j->m), uint64_t(j->n)}), "[batch, m, n]");
  j->U = a.f32(5, "U", mul(env, {b, uint64_t(j->m), uint64_t(j->r)}), "[batch, m, r]");
  j->S = a.f32(6, "S", mul(env, {b, uint64_t(j->r)}), "[batch, r]");
  j->V = a.f32(7, "V", mul(env, {b, uint64_t(j->n), uint64_t(j->r)}), "[batch, n, r]");
  return j;
}

struct EighJob : Job {
  const float* A;
  idx batch, n;
  float *values, *vectors;
  void execute() override { molrg::eighBatched(A, batch, n, values, vectors); }
};

std::unique_ptr<Job> parseEigh(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<EighJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->batch = a.size(1, "batch");
  j->n = a.size(2, "n", 1);
  const uint64_t b = static_cast<uint64_t>(j->batch), n = static_cast<uint64_t>(j->n);
  j->A = a.f32(0, "A", mul(env, {b, n, n}), "[batch, n, n]");
  j->values = a.f32(3, "values", mul(env, {b, n}), "[batch, n]");
  j->vectors = a.f32(4, "vectors", mul(env, {b, n, n}), "[batch, n, n]");
  return j;
}

struct NearestJob : Job {
  const float *queries, *refs;
  idx M, N, n;
  int32_t* index;
  float* dist;
  void execute() override { molrg::nearest(queries, M, refs, N, n, index, dist); }
};

std::unique_ptr<Job> parseNearest(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<NearestJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->M = a.size(1, "M");
  j->N = a.size(3, "N", 1);
  j->n = a.size(4, "n", 1);
  j->queries = a.f32(0, "queries", mul(env, {uint64_t(j->M), uint64_t(j->n)}), "[M, n]");
  j->refs = a.f32(2, "refs", mul(env, {uint64_t(j->N), uint64_t(j->n)}), "[N, n]");
  j->index = a.i32(5, "index", uint64_t(j->M), "[M]");
  j->dist = a.f32(6, "dist", uint64_t(j->M), "[M]");
  return j;
}

// Jobs on stacked bases hold their block structure.
struct BasesJob : Job {
  std::unique_ptr<molrg::Blocks> bl;
};

struct ProjectJob : BasesJob {
  const float *x, *U;
  idx B;
  float* P;
  void execute() override { molrg::project(x, B, *bl, U, P); }
};

// project(x, B, n, dims, U, P)
std::unique_ptr<Job> parseProject(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<ProjectJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->B = a.size(1, "B");
  const idx n = a.size(2, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(3, n));
  const uint64_t B = uint64_t(j->B), D = uint64_t(j->bl->D);
  j->x = a.f32(0, "x", mul(env, {B, uint64_t(n)}), "[B, n]");
  j->U = a.f32(4, "U", mul(env, {uint64_t(n), D}), "[n, D]");
  j->P = a.f32(5, "P", mul(env, {B, D}), "[B, D]");
  return j;
}

struct GateJob : BasesJob {
  const float* P;
  idx B;
  const double *bias, *phi;
  float* w;
  void execute() override { molrg::gate(P, B, *bl, bias, phi, w); }
};

// gate(P, B, dims, bias, phi, w)
std::unique_ptr<Job> parseGate(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<GateJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->B = a.size(1, "B");
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(2, 2147483647));
  const uint64_t B = uint64_t(j->B), D = uint64_t(j->bl->D), K = uint64_t(j->bl->K);
  j->P = a.f32(0, "P", mul(env, {B, D}), "[B, D]");
  j->bias = a.f64(3, "bias", mul(env, {B, K}), "[B, K]");
  j->phi = a.f64(4, "phi", mul(env, {B, K}), "[B, K]");
  j->w = a.f32(5, "w", mul(env, {B, K}), "[B, K]");
  return j;
}

// The prior (logPi, lambda, delta) at argument positions i, i+1, i+2.
molrg::Prior prior(const Args& a, size_t i, idx K) {
  molrg::Prior p;
  p.logPi = a.f64(i, "logPi", uint64_t(K), "[K]");
  p.lambda = a.f64(i + 1, "lambda", uint64_t(K), "[K]");
  p.delta = a.finite(i + 2, "delta");
  return p;
}

struct DenoiseJob : BasesJob {
  const float *x, *U, *s, *sigma;
  idx B;
  molrg::Prior pr;
  float *out, *w;
  void execute() override { molrg::denoise(x, B, *bl, U, pr, s, sigma, out, w); }
};

// denoise(x, B, n, dims, U, logPi, lambda, delta, s, sigma, out, w?)
std::unique_ptr<Job> parseDenoise(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<DenoiseJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->B = a.size(1, "B");
  const idx n = a.size(2, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(3, n));
  const uint64_t B = uint64_t(j->B), D = uint64_t(j->bl->D), K = uint64_t(j->bl->K);
  j->x = a.f32(0, "x", mul(env, {B, uint64_t(n)}), "[B, n]");
  j->U = a.f32(4, "U", mul(env, {uint64_t(n), D}), "[n, D]");
  j->pr = prior(a, 5, j->bl->K);
  j->s = a.f32(8, "s", B, "[B]");
  j->sigma = a.f32(9, "sigma", B, "[B]");
  j->out = a.f32(10, "out", mul(env, {B, uint64_t(n)}), "[B, n]");
  j->w = a.present(11) ? a.f32(11, "w", mul(env, {B, K}), "[B, K]") : nullptr;
  return j;
}

struct LossGradJob : BasesJob {
  const float *x0, *eps, *s, *sigma, *weight, *U;
  idx B;
  molrg::Prior pr;
  float* grad;
  double loss = 0.0;
  void execute() override { loss = molrg::lossGrad(x0, eps, B, s, sigma, weight, *bl, U, pr, grad); }
  Napi::Value result(Napi::Env env) override { return Napi::Number::New(env, loss); }
};

// lossGrad(x0, eps, B, s, sigma, weight, n, dims, U, logPi, lambda, delta, grad) -> L
std::unique_ptr<Job> parseLossGrad(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<LossGradJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  j->B = a.size(2, "B");
  const idx n = a.size(6, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(7, n));
  const uint64_t B = uint64_t(j->B), D = uint64_t(j->bl->D);
  j->x0 = a.f32(0, "x0", mul(env, {B, uint64_t(n)}), "[B, n]");
  j->eps = a.f32(1, "eps", mul(env, {B, uint64_t(n)}), "[B, n]");
  j->s = a.f32(3, "s", B, "[B]");
  j->sigma = a.f32(4, "sigma", B, "[B]");
  j->weight = a.f32(5, "weight", B, "[B]");
  j->U = a.f32(8, "U", mul(env, {uint64_t(n), D}), "[n, D]");
  j->pr = prior(a, 9, j->bl->K);
  j->grad = a.f32(12, "grad", mul(env, {uint64_t(n), D}), "[n, D]");
  return j;
}

// The optimiser options from position i on: method, lr (when `lr`), momentum, beta1, beta2, eps, retraction.
molrg::StiefelOptions stiefelOptions(const Args& a, size_t i, bool lr) {
  molrg::StiefelOptions o{};
  o.adam = a.choice(i++, "method", "sgd", "adam") == "adam";
  if (lr) o.lr = a.finite(i++, "lr");
  o.momentum = a.finite(i++, "momentum");
  o.beta1 = a.finite(i++, "beta1");
  o.beta2 = a.finite(i++, "beta2");
  o.eps = a.finite(i++, "eps");
  o.polar = a.choice(i, "retraction", "qr", "polar") == "polar";
  return o;
}

struct StiefelJob : BasesJob {
  float *U, *m, *v;
  const float* G;
  double t;
  molrg::StiefelOptions o;
  void execute() override { molrg::stiefelStep(*bl, U, G, m, v, t, o); }
};

// stiefelStep(n, dims, U, grad, m, v, t, method, lr, momentum, beta1, beta2, eps, retraction)
std::unique_ptr<Job> parseStiefel(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<StiefelJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  const idx n = a.size(0, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(1, n));
  const uint64_t nD = mul(env, {uint64_t(n), uint64_t(j->bl->D)});
  j->U = a.f32(2, "U", nD, "[n, D]");
  j->G = a.f32(3, "grad", nD, "[n, D]");
  j->m = a.f32(4, "m", nD, "[n, D]");
  j->v = a.f32(5, "v", nD, "[n, D]");
  j->t = a.integer(6, "t", 1, kMaxSafe);
  j->o = stiefelOptions(a, 7, true);
  return j;
}

struct TrainJob : BasesJob {
  molrg::TrainDraws d{};
  const float *s, *sigma, *weight;
  idx B, T;
  molrg::Prior pr;
  float *U, *G, *m, *v;
  double t;
  molrg::StiefelOptions o;
  const double* lr;
  double* losses;
  idx done = 0;
  void execute() override {
    done = molrg::trainSteps(d, B, T, s, sigma, weight, *bl, U, pr, G, m, v, t, o, lr, losses);
  }
  Napi::Value result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(done)); }
};

// trainSteps(X, N, index, seed, stream, offset, B, T, s, sigma, weight, n, dims, U, logPi, lambda, delta,
//            grad, m, v, t, method, momentum, beta1, beta2, eps, retraction, lr, losses) -> steps done
std::unique_ptr<Job> parseTrainSteps(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<TrainJob>();
  Args a(info, *j, copy);
  Napi::Env env = a.env();
  const idx N = a.size(1, "N", 1);
  j->B = a.size(6, "B");
  j->T = a.size(7, "T");
  const idx n = a.size(11, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(12, n));
  const uint64_t TB = mul(env, {uint64_t(j->T), uint64_t(j->B)}), nD = mul(env, {uint64_t(n), uint64_t(j->bl->D)});
  j->d.X = a.f32(0, "data", mul(env, {uint64_t(N), uint64_t(n)}), "[N, n]");
  j->d.index = a.i32(2, "index", TB, "[T B]");
  for (uint64_t i = 0; i < TB; i++) {
    if (j->d.index[i] < 0 || j->d.index[i] >= N) {
      rangeError(env, "Expected sample indices in [0, " + std::to_string(N) + ") for index but received " +
                          std::to_string(j->d.index[i]) + " at " + std::to_string(i));
    }
  }
  j->d.seed = static_cast<uint64_t>(a.integer(3, "seed", 0, kMaxSafe));
  j->d.stream = static_cast<uint32_t>(a.integer(4, "stream", 0, 4294967295.0));
  // The last normal drawn is offset + T B n - 1: the offset range leaves room for it.
  const uint64_t TBn = mul(env, {TB, uint64_t(n)});
  j->d.offset = static_cast<uint64_t>(a.integer(5, "offset", 0, kMaxSafe - static_cast<double>(TBn)));
  j->s = a.f32(8, "s", TB, "[T B]");
  j->sigma = a.f32(9, "sigma", TB, "[T B]");
  j->weight = a.f32(10, "weight", TB, "[T B]");
  j->U = a.f32(13, "U", nD, "[n, D]");
  j->pr = prior(a, 14, j->bl->K);
  j->G = a.f32(17, "grad", nD, "[n, D]");
  j->m = a.f32(18, "m", nD, "[n, D]");
  j->v = a.f32(19, "v", nD, "[n, D]");
  j->t = a.integer(20, "t", 0, kMaxSafe);
  j->o = stiefelOptions(a, 21, false);
  j->lr = a.f64(27, "lr", uint64_t(j->T), "[T]");
  j->losses = a.f64(28, "losses", uint64_t(j->T), "[T]");
  return j;
}

struct RetractJob : BasesJob {
  float* U;
  bool polar;
  void execute() override { molrg::retract(*bl, U, polar); }
};

// retract(n, dims, U, method)
std::unique_ptr<Job> parseRetract(const Napi::CallbackInfo& info, bool copy) {
  auto j = std::make_unique<RetractJob>();
  Args a(info, *j, copy);
  const idx n = a.size(0, "n", 1);
  j->bl = std::make_unique<molrg::Blocks>(a.blocks(1, n));
  j->U = a.f32(2, "U", mul(a.env(), {uint64_t(n), uint64_t(j->bl->D)}), "[n, D]");
  j->polar = a.choice(3, "method", "qr", "polar") == "polar";
  return j;
}

// ---- running jobs --------------------------------------------------------------------------------

using Parser = std::unique_ptr<Job> (*)(const Napi::CallbackInfo&, bool copy);

// Runs a job, turning C++ failures into a message (no exception crosses into N-API code).
std::string execute(Job& job) {
  try {
    job.execute();
    return {};
  } catch (const std::bad_alloc&) {
    return "molrg native: out of memory";
  } catch (const std::exception& e) {
    return std::string("molrg native: ") + e.what();
  } catch (...) {
    return "molrg native: unknown error";
  }
}

template <Parser Parse>
Napi::Value runSync(const Napi::CallbackInfo& info) {
  std::unique_ptr<Job> job = Parse(info, false);
  const std::string err = execute(*job);
  if (!err.empty()) throw Napi::Error::New(info.Env(), err);
  return job->result(info.Env());
}

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, "molrg"), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const std::string err = execute(*job_);
    if (!err.empty()) SetError(err);
  }
  void OnOK() override {
    const std::string err = job_->writeBack();
    if (err.empty()) {
      deferred_.Resolve(job_->result(Env()));
    } else {
      deferred_.Reject(Napi::Error::New(Env(), err).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Job> job_;
};

// Bad arguments reject the Promise (with the same TypeError/RangeError the sync form throws).
template <Parser Parse>
Napi::Value runAsync(const Napi::CallbackInfo& info) {
  std::unique_ptr<Job> job;
  try {
    job = Parse(info, true);
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(info.Env());
    rejected.Reject(e.Value());
    return rejected.Promise();
  }
  auto* worker = new Worker(info.Env(), std::move(job));
  Napi::Promise p = worker->promise();
  worker->Queue();  // the worker deletes itself when done
  return p;
}

// ---- configuration -------------------------------------------------------------------------------

Napi::Value Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), molrg::isaName(molrg::currentIsa()));
}

Napi::Value Isas(const Napi::CallbackInfo& info) {
  const auto& list = molrg::availableIsas();
  Napi::Array out = Napi::Array::New(info.Env(), list.size());
  for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), molrg::isaName(list[i]));
  return out;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string names;
  for (molrg::Isa i : molrg::availableIsas()) names += (names.empty() ? "'" : ", '") + std::string(molrg::isaName(i)) + "'";
  Napi::Value v = info.Length() > 0 ? info[0] : env.Undefined();
  molrg::Isa isa;
  if (!v.IsString() || !molrg::parseIsa(v.As<Napi::String>().Utf8Value(), &isa) || !molrg::setIsa(isa)) {
    rangeError(env, "Expected one of the available ISAs (" + names + ") for isa but received " + describe(v));
  }
  return env.Undefined();
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), molrg::threadCount());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  struct NoJob : Job {
    void execute() override {}
  } none;
  Args a(info, none);
  molrg::setThreadCount(static_cast<int>(a.integer(0, "threads", 1, 256)));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto def = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, fn, name));
  };
  def("isa", Isa);
  def("isas", Isas);
  def("setIsa", SetIsa);
  def("threads", Threads);
  def("setThreads", SetThreads);
  def("philox", runSync<parsePhilox>);
  def("randomU32", runSync<parseStream<uint32_t, napi_uint32_array, molrg::randomU32>>);
  def("normals", runSync<parseStream<float, napi_float32_array, molrg::normals>>);
  def("uniforms", runSync<parseStream<float, napi_float32_array, molrg::uniforms>>);
  def("gemm", runSync<parseGemm>);
  def("gemmAsync", runAsync<parseGemm>);
  def("svd", runSync<parseSvd>);
  def("svdAsync", runAsync<parseSvd>);
  def("eigh", runSync<parseEigh>);
  def("eighAsync", runAsync<parseEigh>);
  def("nearest", runSync<parseNearest>);
  def("nearestAsync", runAsync<parseNearest>);
  def("project", runSync<parseProject>);
  def("gate", runSync<parseGate>);
  def("denoise", runSync<parseDenoise>);
  def("denoiseAsync", runAsync<parseDenoise>);
  def("lossGrad", runSync<parseLossGrad>);
  def("lossGradAsync", runAsync<parseLossGrad>);
  def("stiefelStep", runSync<parseStiefel>);
  def("trainSteps", runSync<parseTrainSteps>);
  def("retract", runSync<parseRetract>);
  return exports;
}

}  // namespace

NODE_API_MODULE(molrg, Init)
