// Copyright 2026 The natsrpc Authors.
//
// Per-connection state shared by all handles of one Connection: the transport
// and the reply multiplexers (one per requester, so all clients of one
// requester on one connection share a single response subscription).

#ifndef NATSRPC_SRC_CLIENT_CONNECTION_STATE_H_
#define NATSRPC_SRC_CLIENT_CONNECTION_STATE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "client/client_metrics.h"
#include "natsrpc/connection.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

class ReplyMux;

class ConnectionState {
 public:
  explicit ConnectionState(std::shared_ptr<Transport> transport)
      : transport_(std::move(transport)) {}

  const std::shared_ptr<Transport>& transport() const { return transport_; }

  // The multiplexer of `requester`, created (and subscribed) on first use.
  absl::StatusOr<std::shared_ptr<ReplyMux>> GetReplyMux(
      absl::string_view requester);

  // Per-method counters of this connection's clients.
  ClientMetricsRegistry& metrics() { return metrics_; }

 private:
  std::shared_ptr<Transport> transport_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::weak_ptr<ReplyMux>> muxes_
      ABSL_GUARDED_BY(mu_);
  ClientMetricsRegistry metrics_;
};

// The runtime's way into a Connection's shared state.
class ConnectionAccess {
 public:
  static const std::shared_ptr<ConnectionState>& State(
      const Connection& connection) {
    return connection.state_;
  }
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_CONNECTION_STATE_H_
