// Copyright 2026 The natsrpc Authors.

#include "test_connect.h"

#include <cstring>

namespace natsrpc::testing {
namespace {

TransportTuning& Tuning() {
  static TransportTuning tuning;
  return tuning;
}

}  // namespace

void ParseTestConnectFlags(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--public_nats_api") == 0) {
      Tuning().nats_internals = false;
      continue;
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  argv[out] = nullptr;
}

bool UsesPublicNatsApi() { return !Tuning().nats_internals; }

absl::StatusOr<Connection> ConnectForTest(ConnectOptions options) {
  options.tuning = Tuning();
  return Connect(options);
}

}  // namespace natsrpc::testing
