// Copyright 2026 The natsrpc Authors.
//
// Application metadata: what a caller sends with a call (ClientOptions and
// CallOptions `metadata`) and a handler reads from its ServerContext, carried
// as NATS message headers (docs/protocol.md section 3).

#ifndef NATSRPC_METADATA_H_
#define NATSRPC_METADATA_H_

#include <string>
#include <utility>
#include <vector>

namespace natsrpc {

// (key, value) pairs, in order; a key may repeat. Keys are printable ASCII
// without ':'; values have no CR or LF. Keys starting with `Nats-` or
// `Natsrpc-`, and `Content-Type`, are reserved for the protocol (compared
// without regard to case): a call with such a key fails with
// INVALID_ARGUMENT, and a handler's response metadata with one is dropped.
using Metadata = std::vector<std::pair<std::string, std::string>>;

}  // namespace natsrpc

#endif  // NATSRPC_METADATA_H_
