// Copyright 2026 The natsrpc Authors.
//
// C++20 coroutines on the client, header-only and without a coroutine
// library: every unary method `M` of a generated client has `MCo`, which
// starts the call at once (as `MAsync` does) and returns an awaitable of
// its result:
//
//   example::v1::AddRequest req;
//   req.set_a(2);
//   req.set_b(3);
//   const natsrpc::CallOptions options{.timeout = absl::Seconds(1)};
//   absl::StatusOr<example::v1::AddReply> reply =
//       co_await calc.AddCo(req, options);   // or calc.AddCo(req)
//
// GCC 12 miscompiles a temporary with std::string members (a braced
// CallOptions, `CallOptions{}`, a default argument) inside a co_await
// expression whose coroutine suspends: it is destroyed twice (free():
// invalid pointer). Name the options (and the request) as above; `MCo` has
// an overload without options for that reason, not a default argument.
// Clang is not affected.
//
// The coroutine type is the caller's own (any task type whose promise
// accepts a plain awaitable; tests/integration/async_test.cc has a minimal
// one). Where it resumes: if the call had ended when `co_await` looks (an
// immediate error, or a fast reply), the coroutine just goes on on its own
// thread; otherwise it is resumed on the thread that completes the call: the
// client's reply thread (the connection's delivery thread), or the deadline
// timer's for DEADLINE_EXCEEDED, or the thread calling Cancel(). Code after
// the co_await therefore runs there: keep it short, or hop to an executor of
// your own, as with an `MAsync` callback (natsrpc/client.h).
//
// The request is encoded before `MCo` returns, so it may be a temporary.
// A CallAwaitable may be awaited once. Destroying it (or the coroutine
// frame holding it) before the call ends does not cancel the call (use
// handle().Cancel()); the result is then dropped and nothing is resumed.

#ifndef NATSRPC_CORO_H_
#define NATSRPC_CORO_H_

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/client.h"

namespace natsrpc {

template <typename Resp>
class CallAwaitable {
 public:
  // For generated code: `start` starts the call with the callback it is
  // given (a `MAsync`) and returns its handle.
  template <typename Start>
  explicit CallAwaitable(Start&& start) : state_(std::make_shared<State>()) {
    handle_ = std::forward<Start>(start)(
        [state = state_](absl::StatusOr<Resp> result) mutable {
          std::coroutine_handle<> waiter;
          {
            absl::MutexLock lock(&state->mu);
            state->result.emplace(std::move(result));
            waiter = std::exchange(state->waiter, nullptr);
          }
          if (waiter) waiter.resume();
        });
  }

  CallAwaitable(CallAwaitable&&) noexcept = default;
  CallAwaitable& operator=(CallAwaitable&&) noexcept = default;
  CallAwaitable(const CallAwaitable&) = delete;
  CallAwaitable& operator=(const CallAwaitable&) = delete;

  ~CallAwaitable() {
    if (state_ == nullptr) return;
    absl::MutexLock lock(&state_->mu);
    state_->waiter = nullptr;  // nothing to resume any more
  }

  // The call, to cancel it (natsrpc/client.h).
  const CallHandle& handle() const { return handle_; }

  bool await_ready() const {
    absl::MutexLock lock(&state_->mu);
    return state_->result.has_value();
  }
  // False (go on at once) if the call ended meanwhile.
  bool await_suspend(std::coroutine_handle<> waiter) {
    absl::MutexLock lock(&state_->mu);
    if (state_->result.has_value()) return false;
    state_->waiter = waiter;
    return true;
  }
  absl::StatusOr<Resp> await_resume() {
    absl::MutexLock lock(&state_->mu);
    return *std::move(state_->result);
  }

 private:
  struct State {
    absl::Mutex mu;
    std::optional<absl::StatusOr<Resp>> result;
    std::coroutine_handle<> waiter;
  };

  std::shared_ptr<State> state_;
  CallHandle handle_;
};

}  // namespace natsrpc

#endif  // NATSRPC_CORO_H_
