// Copyright 2026 The natsrpc Authors.
//
// How integration test binaries connect: natsrpc::Connect with the transport
// tuning their command line asked for. `--public_nats_api` switches the NATS
// adapter's fast path off (TransportTuning::nats_internals = false), so that
// the same tests also cover nats.c's public message API path
// (tests/integration/CMakeLists.txt runs each binary both ways).

#ifndef NATSRPC_TESTS_SUPPORT_TEST_CONNECT_H_
#define NATSRPC_TESTS_SUPPORT_TEST_CONNECT_H_

#include "absl/status/statusor.h"
#include "natsrpc/connection.h"

namespace natsrpc::testing {

// Reads and removes this file's flags from argv; call before
// ::testing::InitGoogleTest.
void ParseTestConnectFlags(int* argc, char** argv);

// True if the command line asked for nats.c's public message API
// (--public_nats_api).
bool UsesPublicNatsApi();

// natsrpc::Connect(options) with the tuning of the command line.
absl::StatusOr<Connection> ConnectForTest(ConnectOptions options);

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_TEST_CONNECT_H_
