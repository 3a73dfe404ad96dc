// Copyright 2026 The natsrpc Authors.

#include "client/call_interceptors.h"

#include <utility>

#include "wire/headers.h"
#include "wire/reply_metadata.h"

namespace natsrpc::internal {

std::shared_ptr<ClientCallInterceptors> ClientCallInterceptors::Intercept(
    absl::Span<const std::shared_ptr<ClientInterceptor>> interceptors,
    CallInfo call, TraceContext& span) {
  auto chain = std::make_shared<ClientCallInterceptors>();
  chain->trace_ = std::move(span);
  call.trace = &chain->trace_;
  for (const std::shared_ptr<ClientInterceptor>& interceptor : interceptors) {
    if (interceptor == nullptr) continue;
    std::unique_ptr<ClientCallInterceptor> one = interceptor->Intercept(call);
    if (one == nullptr) continue;
    chain->calls_.push_back(std::move(one));
  }
  if (chain->calls_.empty()) {
    span = std::move(chain->trace_);
    return nullptr;
  }
  return chain;
}

absl::Status ClientCallInterceptors::Start(Metadata& request_metadata) {
  absl::Status status;
  while (started_ < calls_.size() && status.ok()) {
    status = calls_[started_++]->OnStart(request_metadata);
  }
  if (status.ok()) status = wire::ValidateMetadata(request_metadata);
  if (!status.ok()) Finish(status, Metadata());
  return status;
}

void ClientCallInterceptors::Finish(const absl::Status& status,
                                    const Metadata& response_metadata) {
  if (finished_.exchange(true, std::memory_order_acq_rel)) return;
  for (size_t i = started_; i > 0; --i) {
    calls_[i - 1]->OnFinish(status, response_metadata);
  }
}

Metadata ResponseMetadata(const IncomingMessage& reply) {
  Metadata out;
  Metadata trailers;
  wire::SplitMetadata(reply.headers(), wire::kTrailerPrefix, out, trailers);
  out.insert(out.end(), trailers.begin(), trailers.end());
  return out;
}

}  // namespace natsrpc::internal
