// Copyright 2026 The natsrpc Authors.
//
// Asynchronous unary handlers (natsrpc/async.h) inside the server: the
// state of one pending call, shared by the UnaryCompletion objects that
// refer to it, and the set of pending calls ordered by deadline with the
// thread that ends expired ones. ServerCore (server_async.cc) starts and
// ends the calls; this file only holds them.

#ifndef NATSRPC_SRC_SERVER_ASYNC_CALL_H_
#define NATSRPC_SRC_SERVER_ASYNC_CALL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/server.h"
#include "natsrpc/transport.h"
#include "server/call_interceptors.h"
#include "server/service_registry.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

class ServerCore;

// How a pending call ended.
enum class AsyncEnd {
  kFinished,   // the handler's Finish (or a dropped responder): replied
  kCancelled,  // the caller cancelled: no reply
  kDeadline,   // its deadline passed first: no reply
  kShutdown,   // the server shut down: UNAVAILABLE reply
};

// One pending asynchronous unary call. Created by ServerCore::ServeAsync,
// owned by the UnaryCompletion objects that refer to it (and, while the
// handler function runs, by ServeAsync). The server's own references
// (cancel table, AsyncCallSet) are weak or dropped when it ends.
class AsyncUnaryCall {
 public:
  AsyncUnaryCall(std::weak_ptr<ServerCore> core, const RegisteredService& reg,
                 const RegisteredMethod& method, MessagePtr message,
                 const wire::RequestSubjectParts& parts, absl::Time deadline,
                 ServerCallInterceptors interceptors)
      : core(std::move(core)),
        reg(reg),
        method(method),
        message(message),
        deadline(deadline),
        interceptors(std::move(interceptors)),
        context(std::move(message), parts.requester, parts.responder, parts.app,
                parts.service, parts.method, deadline) {}

  AsyncUnaryCall(const AsyncUnaryCall&) = delete;
  AsyncUnaryCall& operator=(const AsyncUnaryCall&) = delete;

  // Marks the call ended as `how`; true only the first time. For kCancelled,
  // kDeadline and kShutdown it sets the context's cancel flag and hands back
  // the OnCancel callback to run (outside the lock).
  bool TryEnd(AsyncEnd how, std::function<void()>& on_cancel) {
    absl::MutexLock lock(&mu);
    if (ended) return false;
    ended = true;
    if (how != AsyncEnd::kFinished) {
      ended_elsewhere = true;
      cancelled.store(true, std::memory_order_release);
      on_cancel = std::move(on_cancel_fn);
    }
    on_cancel_fn = nullptr;
    return true;
  }

  const std::weak_ptr<ServerCore> core;
  // Alive while `core` is: ServerCore keeps its registrations.
  const RegisteredService& reg;
  const RegisteredMethod& method;
  const MessagePtr message;
  const absl::Time deadline;
  // Time of OnStart; the set's key.
  uint64_t id = 0;
  // ServerContext::IsCancelled()'s flag.
  std::atomic<bool> cancelled{false};
  ServerCallInterceptors interceptors;
  ServerContext context;
  // The decoded request (UnaryCompletion::KeepAlive).
  std::shared_ptr<const void> keep_alive;

  absl::Mutex mu;
  bool ended ABSL_GUARDED_BY(mu) = false;
  // Ended by a cancel, the deadline or shutdown (UnaryCompletion::
  // IsCancelled()).
  bool ended_elsewhere ABSL_GUARDED_BY(mu) = false;
  std::function<void()> on_cancel_fn ABSL_GUARDED_BY(mu);
};

// The pending calls of one server, ordered by deadline, and a thread that
// hands each expired one to `expire` (started with the first call).
// Thread-safe.
class AsyncCallSet {
 public:
  using ExpireFn = std::function<void(std::shared_ptr<AsyncUnaryCall>)>;
  explicit AsyncCallSet(ExpireFn expire) : expire_(std::move(expire)) {}
  ~AsyncCallSet() { Stop(); }

  AsyncCallSet(const AsyncCallSet&) = delete;
  AsyncCallSet& operator=(const AsyncCallSet&) = delete;

  // Files `call` (sets its id). False after Stop(): end it now.
  bool Add(const std::shared_ptr<AsyncUnaryCall>& call);
  void Remove(const AsyncUnaryCall& call);
  // Stops the thread and returns the calls still pending (for shutdown).
  // Idempotent; Add() fails afterwards.
  std::vector<std::shared_ptr<AsyncUnaryCall>> Stop();
  size_t size() const;

 private:
  using Key = std::pair<absl::Time, uint64_t>;
  void Loop();

  const ExpireFn expire_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::map<Key, std::weak_ptr<AsyncUnaryCall>> calls_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // started by the first Add
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_ASYNC_CALL_H_
