// Copyright 2026 The natsrpc Authors.

#include "server/worker_pool.h"

#include <utility>

namespace natsrpc::internal {

WorkerPool::WorkerPool(int threads, size_t max_queued)
    : threads_(threads), max_queued_(max_queued) {
  workers_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { Loop(); });
  }
}

bool WorkerPool::TrySubmit(Task& task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(task));
  queued_.store(queue_.size(), std::memory_order_relaxed);
  return true;
}

bool WorkerPool::TryTakeSlot() {
  absl::MutexLock lock(&mu_);
  if (stopping_ || !queue_.empty() || busy_ >= threads_) return false;
  ++busy_;
  return true;
}

void WorkerPool::LeaveSlot() {
  absl::MutexLock lock(&mu_);
  --busy_;
}

void WorkerPool::Stop() {
  std::deque<Task> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    dropped.swap(queue_);
  }
  for (Task& t : dropped) t(false);
  for (std::thread& w : workers_) w.join();
}

void WorkerPool::Loop() {
  bool ran = false;
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      if (ran) --busy_;
      mu_.Await(absl::Condition(
          +[](WorkerPool* p) {
            p->mu_.AssertReaderHeld();
            return p->stopping_ ||
                   (!p->queue_.empty() && p->busy_ < p->threads_);
          },
          this));
      if (queue_.empty()) return;  // stopping
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_relaxed);
      ++busy_;
    }
    task(true);
    ran = true;
  }
}

}  // namespace natsrpc::internal
