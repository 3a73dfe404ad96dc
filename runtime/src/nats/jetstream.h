// Copyright 2026 The natsrpc Authors.
//
// The JetStream seam (natsrpc/jetstream.h) over nats.c's `js_*` and
// `kvStore_*` API.

#ifndef NATSRPC_SRC_NATS_JETSTREAM_H_
#define NATSRPC_SRC_NATS_JETSTREAM_H_

#include <nats/nats.h>

#include <memory>

#include "absl/status/statusor.h"
#include "natsrpc/jetstream.h"

namespace natsrpc::internal {

// A JetStream context on `nc`, which must outlive the result (the transport
// owning `nc` is kept alive by whoever holds the result).
absl::StatusOr<std::shared_ptr<JetStream>> OpenNatsJetStream(
    natsConnection* nc, const JetStreamOptions& options);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_JETSTREAM_H_
