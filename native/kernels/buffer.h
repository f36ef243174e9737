// Uninitialised, 64-byte aligned scratch arrays for the kernels' intermediates (std::vector would
// zero-fill megabytes per call).
#pragma once

#include <cstdlib>
#include <new>

namespace molrg {

template <class T>
class Buffer {
 public:
  explicit Buffer(size_t n) : data_(static_cast<T*>(std::aligned_alloc(64, round(n * sizeof(T))))) {
    if (!data_) throw std::bad_alloc();
  }
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* data() const { return data_; }
  T& operator[](size_t i) const { return data_[i]; }

 private:
  static size_t round(size_t bytes) { return bytes == 0 ? 64 : (bytes + 63) / 64 * 64; }
  T* data_;
};

/**
 * A growable 64-byte aligned scratch array, kept between calls (as a `thread_local`) so that kernels
 * called every optimiser step neither allocate nor fault in fresh pages. Contents are not preserved
 * when it grows.
 */
template <class T>
class Workspace {
 public:
  Workspace() = default;
  ~Workspace() { std::free(data_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  T* get(size_t n) {
    if (n > size_ || !data_) {
      std::free(data_);
      size_ = 0;
      data_ = static_cast<T*>(std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64 + 64));
      if (!data_) throw std::bad_alloc();
      size_ = n;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace molrg
