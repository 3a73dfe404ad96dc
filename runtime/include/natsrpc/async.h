// Copyright 2026 The natsrpc Authors.
//
// Asynchronous unary handlers, in the style of gRPC's callback API: a
// handler may return before its call is answered and finish it later, from
// any thread, so a server can wait on I/O or on other RPCs without holding a
// worker (ServerOptions::num_workers). Derive from the generated
// `Svc::AsyncService` (instead of `Svc::Service`) and override `MAsync`:
//
//   class CalculatorImpl final : public example::v1::Calculator::AsyncService {
//     void AddAsync(natsrpc::ServerContext& context,
//                   const example::v1::AddRequest& request,
//                   natsrpc::UnaryResponder<example::v1::AddReply> responder)
//         override {
//       // Copy what you need from `request`, move the responder away and
//       // return: the worker is free.
//       backend_.Lookup(request.a(), [r = std::move(responder)](
//                                        absl::StatusOr<int64_t> v) mutable {
//         if (!v.ok()) return r.Finish(v.status());   // error reply
//         example::v1::AddReply reply;
//         reply.set_sum(*v);
//         r.Finish(reply);                            // OK reply
//       });
//     }
//   };
//
// Methods an AsyncService does not override run their blocking `M` (so
// `AsyncService` with nothing overridden behaves as `Service`).
//
// The rules:
//   - Exactly once: the first Finish answers the call; later ones do nothing
//     and return false. A responder destroyed (or assigned over) without
//     Finish answers INTERNAL ("... dropped its responder without finishing
//     the call"): the caller is never left waiting for its deadline.
//   - Deadline and cancel reach a pending call: when the caller cancels, the
//     call's deadline passes, or the server shuts down, the call ends at once
//     (interceptors and Server::method_stats() see CANCELLED,
//     DEADLINE_EXCEEDED, or UNAVAILABLE; only shutdown sends a reply, since
//     the caller waits for nothing else), context().IsCancelled() turns
//     true, and the OnCancel callback runs. A Finish after that is harmless:
//     it sends nothing and returns false.
//   - The ServerContext and the request stay valid while the responder (or
//     an object it was moved to) lives. Add metadata (AddInitialMetadata,
//     AddTrailingMetadata) before Finish, from one thread at a time: Finish
//     sends what the context holds then.
//   - Interceptors, method stats and tracing behave as for a blocking
//     handler: OnStart before the handler, OnFinish when the call ends (on
//     the thread that ends it); the latency is the time to Finish. The
//     handler runs with the call's span as its thread's
//     CurrentTraceContext(); on another thread, pass `context.trace_context()`
//     as CallOptions::trace_parent.
//   - Server::Shutdown() ends pending calls with UNAVAILABLE and does not
//     wait for their responders; code that finishes them later must not use
//     a Service that is gone by then.

#ifndef NATSRPC_ASYNC_H_
#define NATSRPC_ASYNC_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "natsrpc/codec.h"
#include "natsrpc/export.h"
#include "natsrpc/server.h"
#include "natsrpc/transport.h"

namespace natsrpc {

namespace internal {
class AsyncUnaryCall;
}  // namespace internal

// The untyped completion of one pending unary call: the base of
// UnaryResponder<Resp>. Move-only; thread-safe (Finish and OnCancel may race
// with a cancel, a deadline and each other).
class NATSRPC_EXPORT UnaryCompletion {
 public:
  // Refers to no call (Finish returns false).
  UnaryCompletion() = default;
  // For the runtime.
  explicit UnaryCompletion(std::shared_ptr<internal::AsyncUnaryCall> call)
      : call_(std::move(call)) {}
  UnaryCompletion(UnaryCompletion&& other) noexcept = default;
  // Finishes the call this one refers to with INTERNAL if it is pending.
  UnaryCompletion& operator=(UnaryCompletion&& other) noexcept;
  UnaryCompletion(const UnaryCompletion&) = delete;
  UnaryCompletion& operator=(const UnaryCompletion&) = delete;
  // Finishes a pending call with INTERNAL (see natsrpc/async.h).
  ~UnaryCompletion();

  // True if this refers to a call (it was not moved from).
  bool valid() const { return call_ != nullptr; }

  // The call's context; valid while this object (or the one it was moved
  // to) lives. Requires valid().
  ServerContext& context() const;

  // True once the call ended without this object's Finish: the caller
  // cancelled, the deadline passed or the server shut down (or false:
  // still pending or finished here). Also see context().IsCancelled().
  bool IsCancelled() const;

  // `on_cancel` runs once when the caller cancels, the deadline passes or
  // the server shuts down before the call is finished: on the thread that
  // notices (keep it short, do not block), or here at once if that already
  // happened. Not run once Finish answered the call. A second OnCancel
  // replaces the first.
  void OnCancel(std::function<void()> on_cancel);

  // Answers the call with `status`; an OK status sends an empty reply body
  // (UnaryResponder::Finish(status) sends a default response instead).
  // Returns true if this answered the call; false if it had ended (a
  // Finish before, cancel, deadline, shutdown) or this refers to no call.
  bool Finish(const absl::Status& status);

  // For generated code: answers OK with an encoded reply.
  bool FinishEncoded(Payload reply, absl::string_view content_type);

  // For generated code: keeps `object` (the decoded request) alive as long
  // as the call's context.
  void KeepAlive(std::shared_ptr<const void> object);

 private:
  std::shared_ptr<internal::AsyncUnaryCall> call_;
};

// The typed completion handed to `Svc::AsyncService::MAsync`: answer the
// call with Finish(response) or Finish(error status). See the top of this
// file for the rules.
template <typename Resp>
class UnaryResponder final : public UnaryCompletion {
 public:
  using EncodeFn = absl::Status (*)(const Resp&, Payload&);

  UnaryResponder() = default;
  // For generated code (natsrpc/impl/method_handler.h).
  UnaryResponder(UnaryCompletion completion, EncodeFn encode,
                 absl::string_view content_type)
      : UnaryCompletion(std::move(completion)),
        encode_(encode),
        content_type_(content_type) {}
  UnaryResponder(UnaryResponder&&) noexcept = default;
  UnaryResponder& operator=(UnaryResponder&&) noexcept = default;

  // Answers OK with `response`; an encoding error is sent instead (as a
  // blocking handler's would be).
  bool Finish(const Resp& response) {
    if (!valid() || encode_ == nullptr) return false;
    Payload out;
    if (absl::Status s = encode_(response, out); !s.ok()) {
      return UnaryCompletion::Finish(s);
    }
    return FinishEncoded(std::move(out), content_type_);
  }
  // Answers with `status`; OK sends a default-constructed Resp.
  bool Finish(const absl::Status& status) {
    if (status.ok()) return Finish(Resp{});
    return UnaryCompletion::Finish(status);
  }

 private:
  EncodeFn encode_ = nullptr;
  absl::string_view content_type_;
};

}  // namespace natsrpc

#endif  // NATSRPC_ASYNC_H_
