// Copyright 2026 The natsrpc Authors.
//
// Default values of the protocol and of the runtime's options, named once.
// docs/protocol.md gives the protocol's; the option structs in
// natsrpc/client.h and natsrpc/server.h document when each applies.

#ifndef NATSRPC_SRC_WIRE_DEFAULTS_H_
#define NATSRPC_SRC_WIRE_DEFAULTS_H_

#include <cstdint>

#include "absl/time/time.h"

namespace natsrpc::wire {

// The default unary timeout is natsrpc::kDefaultCallTimeout (natsrpc/client.h)
// and the server's queue limits are ServerOptions' member initializers
// (natsrpc/server.h): public, so they are spelled there.

// Streams (docs/protocol.md 9.5, 9.6).
// Received but unread messages one side holds per stream (its window) when
// the peer is of revision <= 4 and so bounds messages only.
inline constexpr uint32_t kDefaultStreamWindow = 16;
// Revision 5 (section 9.5.1), with a peer that honours byte credit: the
// window in messages and in payload bytes. A slow reader holds at most
// kDefaultStreamWindowMessages messages and kDefaultStreamWindowBytes plus
// one message of payload.
inline constexpr uint32_t kDefaultStreamWindowMessages = 1024;
inline constexpr uint64_t kDefaultStreamWindowBytes = uint64_t{1} << 20;
// The heartbeat interval a client proposes.
inline constexpr absl::Duration kDefaultStreamHeartbeat = absl::Seconds(5);
// The shortest heartbeat interval a server accepts.
inline constexpr absl::Duration kDefaultMinStreamHeartbeat = absl::Seconds(1);
// A stream fails after this many heartbeat intervals without a message.
inline constexpr int kLivenessHeartbeats = 3;
// How often the runtime ticks open streams (heartbeats, liveness).
inline constexpr absl::Duration kStreamTickPeriod = absl::Milliseconds(100);

// ServerOptions::num_workers = 0 means max(this, hardware threads).
inline constexpr int kMinDefaultWorkers = 4;

}  // namespace natsrpc::wire

#endif  // NATSRPC_SRC_WIRE_DEFAULTS_H_
