// Copyright 2026 The natsrpc Authors.
//
// The counters every stream object of natsrpc/stream.h reports.

#ifndef NATSRPC_STREAM_STATS_H_
#define NATSRPC_STREAM_STATS_H_

#include <cstdint>

namespace natsrpc {

// Counters of one side of one stream.
struct StreamStats {
  uint64_t sent = 0;          // messages this side wrote
  uint64_t received = 0;      // messages from the peer, read or not
  uint64_t consumed = 0;      // messages returned by Read
  uint64_t max_buffered = 0;  // most received but unread messages held
  uint64_t window = 0;        // this side's receive window
  // Revision 5 (docs/protocol.md 9.5.1): most payload bytes of received but
  // unread messages held, and the receive window in bytes (0: the peer is
  // bounded by messages only).
  uint64_t max_buffered_bytes = 0;
  uint64_t window_bytes = 0;
  // Writes that found no credit and waited for the peer's reader (flow
  // control, docs/protocol.md 9.5): a sign of a slow reader.
  uint64_t credit_stalls = 0;
};

}  // namespace natsrpc

#endif  // NATSRPC_STREAM_STATS_H_
