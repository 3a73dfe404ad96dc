// Copyright 2026 The natsrpc Authors.
//
// The bounded pool of threads that runs unary handlers (ServerOptions::
// num_workers, max_queued_requests in natsrpc/server.h).

#ifndef NATSRPC_SRC_SERVER_WORKER_POOL_H_
#define NATSRPC_SRC_SERVER_WORKER_POOL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace natsrpc::internal {

// A fixed set of threads draining a bounded queue. A caller may also run a
// task itself in a free worker's place (TryTakeSlot), so that at most
// `threads` tasks run at once either way.
class WorkerPool {
 public:
  // run=false: the pool stopped before the task could run (answer it).
  using Task = absl::AnyInvocable<void(bool run)>;

  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool() { Stop(); }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool stopped; `task` is left with
  // the caller then.
  bool TrySubmit(Task& task);

  // Takes a worker's slot for the caller if one is free and nothing is
  // queued; the caller runs its task and then calls LeaveSlot().
  bool TryTakeSlot();
  void LeaveSlot();

  // A hint: requests waiting for a worker.
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }

  // Runs every queued task with run=false, lets running ones finish, joins.
  // Idempotent.
  void Stop();

 private:
  void Loop();

  const int threads_;
  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  // Tasks running, on workers or in a worker's place.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<size_t> queued_{0};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_WORKER_POOL_H_
