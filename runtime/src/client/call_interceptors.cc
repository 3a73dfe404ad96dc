// Copyright 2026 The natsrpc Authors.

#include "client/call_interceptors.h"

#include <utility>

#include "wire/headers.h"

namespace natsrpc::internal {

std::shared_ptr<ClientCallInterceptors> ClientCallInterceptors::Intercept(
    absl::Span<const std::shared_ptr<ClientInterceptor>> interceptors,
    const CallInfo& call) {
  std::shared_ptr<ClientCallInterceptors> chain;
  for (const std::shared_ptr<ClientInterceptor>& interceptor : interceptors) {
    if (interceptor == nullptr) continue;
    std::unique_ptr<ClientCallInterceptor> one = interceptor->Intercept(call);
    if (one == nullptr) continue;
    if (chain == nullptr) chain = std::make_shared<ClientCallInterceptors>();
    chain->calls_.push_back(std::move(one));
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
  for (auto& [key, value] : reply.headers()) {
    if (!wire::IsReservedHeader(key)) out.emplace_back(key, value);
  }
  return out;
}

}  // namespace natsrpc::internal
