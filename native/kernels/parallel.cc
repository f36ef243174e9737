#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace molrg {

namespace {

thread_local bool inRegion = false;

int defaultThreads() {
  if (const char* env = std::getenv("MOLRG_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 256) return static_cast<int>(v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw > 256 ? 256 : hw);
}

class Pool {
 public:
  Pool() : threads_(defaultThreads()) {}

  int threads() const { return threads_.load(); }

  void resize(int n) {
    std::lock_guard<std::mutex> lock(busy_);
    stopWorkers();
    threads_.store(n);
  }

  void run(idx count, const std::function<void(idx, idx)>& fn) {
    std::unique_lock<std::mutex> region(busy_, std::try_to_lock);
    const int threads = threads_.load();
    if (!region.owns_lock() || threads <= 1 || count <= 1) {
      runPart(0, count, fn);
      return;
    }
    startWorkers(threads);
    const int parts = static_cast<int>(count < threads ? count : threads);
    {
      std::lock_guard<std::mutex> lock(m_);
      fn_ = &fn;
      count_ = count;
      parts_ = parts;
      next_ = 0;
      pending_ = parts;
      error_ = nullptr;
      generation_++;
    }
    wake_.notify_all();
    // The caller takes parts too, so a worker that is slow to wake (a busy machine) costs no waiting.
    std::unique_lock<std::mutex> lock(m_);
    std::exception_ptr mine = runParts(lock);
    done_.wait(lock, [&] { return pending_ == 0; });
    std::exception_ptr err = mine ? mine : error_;
    lock.unlock();
    if (err) std::rethrow_exception(err);
  }

  static void runPart(idx begin, idx end, const std::function<void(idx, idx)>& fn) {
    struct Restore {
      bool old;
      ~Restore() { inRegion = old; }
    } restore{inRegion};
    inRegion = true;
    if (end > begin) fn(begin, end);
  }

 private:
  void startWorkers(int threads) {
    while (static_cast<int>(workers_.size()) < threads - 1) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(m_);
        seen = generation_;
      }
      workers_.emplace_back([this, seen] { loop(seen); });
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
  }

  void loop(uint64_t seen) {
    inRegion = true;
    for (;;) {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      std::exception_ptr err = runParts(lock);
      if (err && !error_) error_ = err;
    }
  }

  // Claims and runs the unclaimed parts of the current region (`lock` holds m_ except while a part
  // runs); the region cannot end while a claimed part is pending. Returns the first exception.
  std::exception_ptr runParts(std::unique_lock<std::mutex>& lock) {
    std::exception_ptr first;
    while (next_ < parts_) {
      const int part = next_++;
      const auto* fn = fn_;
      const idx begin = count_ * part / parts_, end = count_ * (part + 1) / parts_;
      lock.unlock();
      try {
        runPart(begin, end, *fn);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
      lock.lock();
      if (--pending_ == 0) done_.notify_all();
    }
    return first;
  }

  std::mutex busy_;  // held for the whole of one parallel region
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<int> threads_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  const std::function<void(idx, idx)>* fn_ = nullptr;
  idx count_ = 0;
  int parts_ = 1;
  int next_ = 0;  // the next unclaimed part
  int pending_ = 0;
  std::exception_ptr error_;
};

// Never destroyed: worker threads stay parked until the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int threadCount() { return pool().threads(); }
void setThreadCount(int n) { pool().resize(n < 1 ? 1 : n); }

void parallelFor(idx count, const std::function<void(idx, idx)>& fn) {
  if (count <= 0) return;
  if (inRegion) {
    Pool::runPart(0, count, fn);
    return;
  }
  pool().run(count, fn);
}

void parallelFor(idx count, double work, const std::function<void(idx, idx)>& fn) {
  if (count <= 0) return;
  if (work < kMinParallelWork || inRegion) {
    Pool::runPart(0, count, fn);
    return;
  }
  pool().run(count, fn);
}

}  // namespace molrg
