// Copyright 2026 The natsrpc Authors.
//
// One client call's interceptors (natsrpc/interceptor.h): the per-call
// objects the ClientOptions::interceptors made for it, OnStart in order,
// OnFinish in reverse order exactly once. ClientChannel only builds one when
// the options have interceptors, so a client without any pays nothing.

#ifndef NATSRPC_SRC_CLIENT_CALL_INTERCEPTORS_H_
#define NATSRPC_SRC_CLIENT_CALL_INTERCEPTORS_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

class ClientCallInterceptors {
 public:
  // Asks every interceptor about `call`, with CallInfo::trace pointing to
  // the chain's copy of `span`; null if none follows it (then `span` is
  // what the interceptors left in it).
  static std::shared_ptr<ClientCallInterceptors> Intercept(
      absl::Span<const std::shared_ptr<ClientInterceptor>> interceptors,
      CallInfo call, TraceContext& span);

  // The call's span, as the interceptors left it (valid until the chain is
  // destroyed; read it after Start()).
  const TraceContext& trace() const { return trace_; }

  // Runs OnStart in order on `request_metadata` (what the call sends). On
  // the first non-OK status, or if the metadata then holds a reserved key
  // (INVALID_ARGUMENT), the interceptors whose OnStart ran get OnFinish with
  // that status, which is returned: the call must go no further.
  absl::Status Start(Metadata& request_metadata);

  // OnFinish, in reverse order, of the interceptors whose OnStart ran; only
  // the first call does anything (a call may end on several threads at
  // once, e.g. a stream's failure and its end).
  void Finish(const absl::Status& status, const Metadata& response_metadata);

 private:
  std::vector<std::unique_ptr<ClientCallInterceptor>> calls_;
  size_t started_ = 0;
  std::atomic<bool> finished_{false};
  TraceContext trace_;
};

// The metadata a unary reply carried back (revision 4,
// wire/reply_metadata.h): initial metadata, then trailers (unprefixed).
Metadata ResponseMetadata(const IncomingMessage& reply);

// The span of an outgoing call (natsrpc/trace.h): a child of `parent` if
// valid, else of the thread's current span, else of a `traceparent` the
// caller put in `metadata` by hand; empty if there is none.
TraceContext CallSpan(const TraceContext& parent, const Metadata* metadata);

// What a call sends: `metadata`, and the trace headers of `span` in place of
// any in `metadata` (in `storage` when there are some).
const Metadata* WithTrace(const TraceContext& span, const Metadata* metadata,
                          Metadata& storage);

// The metadata, span and interceptors of a call that does not go through
// the ReplyMux: events and scatter-gather calls (client/fanout.cc).
struct UnmuxedCall {
  // Asks `interceptors` about `call` and runs their OnStart on a copy of
  // `metadata`; a refusal is returned (the call must go no further).
  absl::Status Start(
      absl::Span<const std::shared_ptr<ClientInterceptor>> interceptors,
      CallInfo call, const Metadata* metadata);

  // OnFinish with `status` and no response metadata, if any interceptor
  // follows the call.
  void Finish(const absl::Status& status) const;

  // What to send, after Start(); points into this object.
  const Metadata* sent = nullptr;
  // Null if no interceptor follows the call.
  std::shared_ptr<ClientCallInterceptors> chain;

 private:
  Metadata request_;
  Metadata traced_;
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_CALL_INTERCEPTORS_H_
