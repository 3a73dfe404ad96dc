// Copyright 2026 The natsrpc Authors.

#include "natsrpc/connection.h"

#include <utility>

#include "client/connection_state.h"
#include "client/reply_mux.h"
#include "nats/nats_transport.h"

namespace natsrpc {
namespace internal {

absl::StatusOr<std::shared_ptr<ReplyMux>> ConnectionState::GetReplyMux(
    absl::string_view requester) {
  absl::MutexLock lock(&mu_);
  auto& slot = muxes_[requester];
  if (std::shared_ptr<ReplyMux> mux = slot.lock()) return mux;
  absl::StatusOr<std::shared_ptr<ReplyMux>> mux =
      ReplyMux::Create(transport_, requester, metrics_.replies());
  if (mux.ok()) slot = *mux;
  return mux;
}

}  // namespace internal

Connection::Connection(std::shared_ptr<Transport> transport)
    : state_(
          std::make_shared<internal::ConnectionState>(std::move(transport))) {}

Connection::~Connection() = default;

int64_t Connection::max_payload() const {
  return state_->transport()->max_payload();
}

bool Connection::connected() const { return state_->transport()->connected(); }

void Connection::Close() { state_->transport()->Close(); }

Transport& Connection::transport() const { return *state_->transport(); }

ClientMetrics Connection::client_stats() const {
  return state_->metrics().Snapshot();
}

absl::StatusOr<Connection> Connect(const ConnectOptions& options) {
  absl::StatusOr<std::shared_ptr<Transport>> transport =
      internal::ConnectNats(options);
  if (!transport.ok()) return transport.status();
  return Connection(*std::move(transport));
}

}  // namespace natsrpc
