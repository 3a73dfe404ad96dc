// Copyright 2026 The natsrpc Authors.
//
// A status that exercises docs/protocol.md 4.1 (the exact status in the
// error body): gRPC interop's special_status_message text and two payloads,
// one of them binary.

#ifndef NATSRPC_TESTS_INTEGRATION_EXACT_STATUS_H_
#define NATSRPC_TESTS_INTEGRATION_EXACT_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace natsrpc::testing {

// From gRPC's interop test case special_status_message.
inline constexpr absl::string_view kSpecialStatusMessage =
    "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP "
    "\U0001F608\t\n";
inline constexpr absl::string_view kPayloadA = "type.googleapis.com/test.A";
inline constexpr absl::string_view kPayloadB = "type.googleapis.com/test.B";

inline std::string BinaryPayload() { return std::string("\0\xff\r\n:b", 6); }

// Adds the two payloads to `status`.
inline absl::Status WithPayloads(absl::Status status) {
  status.SetPayload(kPayloadA, absl::Cord("alpha"));
  status.SetPayload(kPayloadB, absl::Cord(BinaryPayload()));
  return status;
}

// Checks that `status` is `code` with kSpecialStatusMessage-like `message`
// exactly and both payloads.
inline void ExpectExact(const absl::Status& status, absl::StatusCode code,
                        absl::string_view message) {
  EXPECT_EQ(status.code(), code);
  EXPECT_EQ(status.message(), message);
  auto a = status.GetPayload(kPayloadA);
  auto b = status.GetPayload(kPayloadB);
  ASSERT_TRUE(a.has_value()) << status;
  ASSERT_TRUE(b.has_value()) << status;
  EXPECT_EQ(std::string(*a), "alpha");
  EXPECT_EQ(std::string(*b), BinaryPayload());
}

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_INTEGRATION_EXACT_STATUS_H_
