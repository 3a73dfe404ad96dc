// Copyright 2026 The natsrpc Authors.
//
// Runs the server's interceptor chain (natsrpc/interceptor.h) for one call:
// the per-call objects, OnStart in order until one refuses, OnFinish in
// reverse order for those whose OnStart ran.

#ifndef NATSRPC_SRC_SERVER_CALL_INTERCEPTORS_H_
#define NATSRPC_SRC_SERVER_CALL_INTERCEPTORS_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

class ServerCallInterceptors {
 public:
  ServerCallInterceptors() = default;
  ServerCallInterceptors(ServerCallInterceptors&&) = default;
  ServerCallInterceptors& operator=(ServerCallInterceptors&&) = default;

  // Asks each of `interceptors` for its object for `call` and runs their
  // OnStart in order; the first non-OK status stops there and is returned.
  // The first `builtins` interceptors are the runtime's own, which read no
  // request metadata: the request's headers are copied into a Metadata only
  // for a user interceptor that follows the call.
  //
  // Tracing (natsrpc/trace.h): the call's span is made here, a child of the
  // request's `traceparent` (none if it has no valid one), and
  // CallInfo::trace points to it for the interceptors; trace() is the
  // result after their OnStart.
  //
  // `first`, if set, is the call's object of interceptors[0], made by the
  // caller (the server's per-method counters, which it holds without a
  // lookup): interceptors[0]->Intercept() is not asked then.
  absl::Status Start(
      const std::vector<std::shared_ptr<ServerInterceptor>>& interceptors,
      size_t builtins, CallInfo call, const IncomingMessage& request,
      std::unique_ptr<ServerCallInterceptor> first = nullptr);

  // The call's span after Start(); empty if the call has none.
  const TraceContext& trace() const;

  // OnFinish, in reverse order, on every object whose OnStart ran. Once:
  // later calls do nothing.
  void Finish(const absl::Status& status, Metadata& response_metadata);

 private:
  // Two inline: the built-in counters and one user interceptor cost no
  // allocation of the vector.
  absl::InlinedVector<std::unique_ptr<ServerCallInterceptor>, 2> started_;
  // Heap-allocated so that CallInfo::trace stays valid when the chain moves
  // (a stream's chain moves to its handler's thread); only for calls with a
  // trace context or a user interceptor.
  std::unique_ptr<TraceContext> trace_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_CALL_INTERCEPTORS_H_
