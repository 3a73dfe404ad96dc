// Copyright 2026 The natsrpc Authors.
//
// Layer 3: the Transport seam implemented over nats.c.

#ifndef NATSRPC_SRC_NATS_NATS_TRANSPORT_H_
#define NATSRPC_SRC_NATS_NATS_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "natsrpc/connection.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

// Connects with nats.c. The connection uses SendAsap so that no publish waits
// for nats.c's 1 ms flusher (PLATFORM.md).
absl::StatusOr<std::shared_ptr<Transport>> ConnectNats(
    const ConnectOptions& options);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_NATS_TRANSPORT_H_
