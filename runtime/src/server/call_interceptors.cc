// Copyright 2026 The natsrpc Authors.

#include "server/call_interceptors.h"

#include <optional>
#include <utility>

#include "wire/trace_context.h"

namespace natsrpc::internal {

absl::Status ServerCallInterceptors::Start(
    const std::vector<std::shared_ptr<ServerInterceptor>>& interceptors,
    size_t builtins, CallInfo call, const IncomingMessage& request,
    std::unique_ptr<ServerCallInterceptor> first) {
  static const Metadata* const kNone = new Metadata();
  std::optional<Metadata> headers;
  TraceContext caller = wire::TraceContextFromMessage(request);
  if (caller.valid() || interceptors.size() > builtins) {
    trace_ = std::make_unique<TraceContext>(caller.valid() ? caller.NewChild()
                                                           : TraceContext());
    call.trace = trace_.get();
  } else {
    // The built-in interceptors do not look at it.
    thread_local TraceContext scratch;
    scratch = TraceContext();
    call.trace = &scratch;
  }
  for (size_t i = 0; i < interceptors.size(); ++i) {
    std::unique_ptr<ServerCallInterceptor> c =
        i == 0 && first != nullptr ? std::move(first)
                                   : interceptors[i]->Intercept(call);
    if (c == nullptr) continue;
    const Metadata* metadata = kNone;
    if (i >= builtins) {
      if (!headers.has_value()) headers = request.headers();
      metadata = &*headers;
    }
    absl::Status s = c->OnStart(*metadata);
    // Its OnStart ran: it gets OnFinish, with this status if it refused.
    started_.push_back(std::move(c));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

const TraceContext& ServerCallInterceptors::trace() const {
  static const TraceContext* const kNone = new TraceContext();
  return trace_ == nullptr ? *kNone : *trace_;
}

void ServerCallInterceptors::Finish(const absl::Status& status,
                                    Metadata& response_metadata) {
  for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
    (*it)->OnFinish(status, response_metadata);
  }
  started_.clear();
}

}  // namespace natsrpc::internal
