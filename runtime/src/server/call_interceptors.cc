// Copyright 2026 The natsrpc Authors.

#include "server/call_interceptors.h"

#include <optional>
#include <utility>

namespace natsrpc::internal {

absl::Status ServerCallInterceptors::Start(
    const std::vector<std::shared_ptr<ServerInterceptor>>& interceptors,
    size_t builtins, const CallInfo& call, const IncomingMessage& request) {
  static const Metadata* const kNone = new Metadata();
  std::optional<Metadata> headers;
  for (size_t i = 0; i < interceptors.size(); ++i) {
    std::unique_ptr<ServerCallInterceptor> c = interceptors[i]->Intercept(call);
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

void ServerCallInterceptors::Finish(const absl::Status& status,
                                    Metadata& response_metadata) {
  for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
    (*it)->OnFinish(status, response_metadata);
  }
  started_.clear();
}

}  // namespace natsrpc::internal
