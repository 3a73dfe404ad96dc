// Copyright 2026 The natsrpc Authors.
//
// Linked instead of natsrpc_contender.cc when the natsrpc runtime or the
// generator is not part of the build: the benchmark then measures only its
// peers.

#include "contender.h"

namespace natsrpc_bench {

std::vector<ContenderFactory> NatsrpcContenders() { return {}; }
std::string NatsrpcVersion() { return ""; }

}  // namespace natsrpc_bench
