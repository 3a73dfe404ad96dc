// Copyright 2026 The natsrpc Authors.
//
// Layer 3: the Transport seam implemented over nats.c.

#ifndef NATSRPC_SRC_NATS_TRANSPORT_H_
#define NATSRPC_SRC_NATS_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "natsrpc/connection.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

// While one lives on a thread, Publish() on that thread writes to the socket
// itself instead of leaving the write to the connection's event-loop thread.
// Callers set it when they know nothing else is about to be published (the
// only call in flight, a worker with no queued request), which saves the
// thread hop without giving up batching under load. Other transports ignore
// it.
class WriteNowScope {
 public:
  explicit WriteNowScope(bool on) : previous_(active_) { active_ = on; }
  ~WriteNowScope() { active_ = previous_; }
  WriteNowScope(const WriteNowScope&) = delete;
  WriteNowScope& operator=(const WriteNowScope&) = delete;

  static bool active() { return active_; }

 private:
  static thread_local bool active_;
  bool previous_;
};

// Connects with nats.c. The connection uses SendAsap so that no publish waits
// for nats.c's 1 ms flusher (PLATFORM.md).
absl::StatusOr<std::shared_ptr<Transport>> ConnectNats(
    const ConnectOptions& options);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_NATS_TRANSPORT_H_
