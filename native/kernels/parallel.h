// A small persistent thread pool. Work is always split over *output* ranges with a static partition,
// and no kernel reduces across parts, so results never depend on the number of threads.
#pragma once

#include <functional>

#include "common.h"

namespace molrg {

/** Threads used by parallel regions (MOLRG_THREADS at load, else the hardware cores). */
int threadCount();
/** Set the thread count (>= 1); waits for a running parallel region to finish. */
void setThreadCount(int n);

/**
 * Run `fn(begin, end)` over a static partition of [0, count) into at most threadCount() contiguous
 * parts, each run by whichever thread claims it first (the calling thread claims too, so a worker
 * slow to wake does not stall the region). Nested calls, and calls made while another thread holds
 * the pool (e.g. two async jobs), run inline on the caller. Exceptions propagate to the caller.
 */
void parallelFor(idx count, const std::function<void(idx, idx)>& fn);

/**
 * Work (in multiply-adds, roughly) below which a parallel region is not worth waking the pool for:
 * a wake-up and the final join cost several microseconds, about this much arithmetic on one core.
 */
constexpr double kMinParallelWork = 65536.0;

/** `parallelFor`, run inline on the caller when the whole range is estimated below kMinParallelWork. */
void parallelFor(idx count, double work, const std::function<void(idx, idx)>& fn);

}  // namespace molrg
