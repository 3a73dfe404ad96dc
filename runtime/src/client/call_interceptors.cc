// Copyright 2026 The natsrpc Authors.

#include "client/call_interceptors.h"

#include <utility>

#include "wire/headers.h"
#include "wire/reply_metadata.h"
#include "wire/trace_context.h"

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

TraceContext CallSpan(const TraceContext& parent, const Metadata* metadata) {
  if (parent.valid()) return parent.NewChild();
  const TraceContext& current = CurrentTraceContext();
  if (current.valid()) return current.NewChild();
  if (metadata != nullptr) {
    TraceContext given = wire::TraceContextFromHeaders(*metadata);
    if (given.valid()) return given.NewChild();
  }
  return TraceContext();
}

const Metadata* WithTrace(const TraceContext& span, const Metadata* metadata,
                          Metadata& storage) {
  if (!span.valid()) return metadata;
  storage.clear();
  if (metadata != nullptr) {
    for (const auto& kv : *metadata) {
      if (!wire::IsTraceHeader(kv.first)) storage.push_back(kv);
    }
  }
  wire::AppendTraceHeaders(span, storage);
  return &storage;
}

absl::Status UnmuxedCall::Start(
    absl::Span<const std::shared_ptr<ClientInterceptor>> interceptors,
    CallInfo call, const Metadata* metadata) {
  TraceContext span = CallSpan(TraceContext(), metadata);
  if (!interceptors.empty()) {
    chain = ClientCallInterceptors::Intercept(interceptors, call, span);
  }
  if (chain == nullptr) {
    sent = WithTrace(span, metadata, traced_);
    return absl::OkStatus();
  }
  if (metadata != nullptr) request_ = *metadata;
  if (absl::Status s = chain->Start(request_); !s.ok()) return s;
  sent = WithTrace(chain->trace(), request_.empty() ? nullptr : &request_,
                   traced_);
  return absl::OkStatus();
}

void UnmuxedCall::Finish(const absl::Status& status) const {
  if (chain != nullptr) chain->Finish(status, Metadata());
}

}  // namespace natsrpc::internal
