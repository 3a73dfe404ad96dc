// Copyright 2026 The natsrpc Authors.
//
// When a unary handler runs on the subscription's delivery thread instead of
// a worker, and when its reply is written at once instead of at the end of a
// burst. The server's side of the transport's scheduling contract
// (natsrpc/transport.h: Delivery, FlushPolicy) is decided here and only here.

#ifndef NATSRPC_SRC_SERVER_INLINE_POLICY_H_
#define NATSRPC_SRC_SERVER_INLINE_POLICY_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/transport.h"
#include "server/worker_pool.h"

namespace natsrpc::internal {

// How long a method's handler takes, to decide whether a request may run on
// the subscription's delivery thread instead of being handed to a worker
// (RunOnDeliveryThread). A hint: updated without a lock.
class MethodTiming {
 public:
  // A handler at most this slow (on average, and in its last run) may run on
  // the delivery thread ...
  static constexpr int64_t kInlineMaxNanos = 50 * 1000;
  // ... if this thread alone would serve the requests already waiting
  // behind it within this long (a longer backlog is worth workers in
  // parallel) ...
  static constexpr int64_t kInlineBudgetNanos = 500 * 1000;
  // ... once this many runs on workers have shown how long it takes.
  static constexpr int64_t kLearnRuns = 8;

  void Record(absl::Duration run) {
    const int64_t ns = absl::ToInt64Nanoseconds(run);
    const int64_t old = average_ns_.load(std::memory_order_relaxed);
    // One slow run is enough to keep the method off the delivery thread
    // until fast runs bring the average down again.
    average_ns_.store(ns > kInlineMaxNanos ? ns : old + (ns - old) / 8,
                      std::memory_order_relaxed);
    runs_.fetch_add(1, std::memory_order_relaxed);
  }

  // How many requests may wait behind one run on the delivery thread; -1:
  // none, hand every request to a worker.
  int64_t MaxPendingToRunInline() const {
    if (runs_.load(std::memory_order_relaxed) < kLearnRuns) return -1;
    const int64_t average =
        std::max<int64_t>(1000, average_ns_.load(std::memory_order_relaxed));
    return average <= kInlineMaxNanos ? kInlineBudgetNanos / average : -1;
  }

 private:
  std::atomic<int64_t> average_ns_{0};
  std::atomic<int64_t> runs_{0};
};

// Run a fast handler here, on the subscription's delivery thread, when a
// worker is free and few requests wait behind this one: handing it to a
// worker would cost a thread wake-up (a context switch) per request.
// Requests that arrive meanwhile wait for it, at most about
// MethodTiming::kInlineMaxNanos; a handler that turns out slow is handed
// to workers again from its next request on. At most num_workers
// handlers run at once either way. True: the caller holds a worker slot
// (WorkerPool::LeaveSlot() when done).
// `enabled`: ServerOptions::run_fast_handlers_inline.
inline bool RunOnDeliveryThread(const MethodTiming& timing, bool enabled,
                                const Delivery& delivery, WorkerPool& pool) {
  if (!enabled) return false;
  const int64_t max_pending = timing.MaxPendingToRunInline();
  return max_pending >= 0 && delivery.pending_after() <= max_pending &&
         pool.TryTakeSlot();
}

// The only request in the server: nothing else will be published right
// after this reply, so write it now instead of hopping to the event-loop
// thread. Under load replies are left to the loop, which writes many with
// one send(). On the delivery thread, requests may also wait right behind
// this one (a worker cannot ask: the subscription may be gone by then).
inline FlushPolicy ReplyFlushPolicy(const WorkerPool& pool, int in_flight,
                                    const Delivery* delivery) {
  return pool.queued() == 0 && in_flight == 1 &&
                 (delivery == nullptr || delivery->pending_after() == 0)
             ? FlushPolicy::kNow
             : FlushPolicy::kBatch;
}

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_INLINE_POLICY_H_
