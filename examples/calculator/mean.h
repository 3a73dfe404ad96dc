// Copyright 2026 The natsrpc Authors.
//
// A component that makes calls: the integer mean of some numbers, computed
// by a Calculator service. It takes the generated
// example::v1::Calculator::ClientInterface, so production code hands it a
// Calculator::Client and its test a Calculator::MockClient
// (calculator_mock_test.cc) or a Client over the in-process test channel
// (calculator_in_process_test.cc).

#ifndef NATSRPC_EXAMPLES_CALCULATOR_MEAN_H_
#define NATSRPC_EXAMPLES_CALCULATOR_MEAN_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "example/v1/calculator.natsrpc.h"

namespace example_calculator {

// Adds the numbers with one Add call each, then divides the sum by their
// count with Divide (rounding toward zero). The first failed call's status
// is returned, prefixed with which call failed; no numbers: INVALID_ARGUMENT
// without any call. `options` applies to every call.
inline absl::StatusOr<int64_t> Mean(
    ::example::v1::Calculator::ClientInterface& calculator,
    absl::Span<const int64_t> numbers,
    const natsrpc::CallOptions& options = {}) {
  if (numbers.empty()) {
    return absl::InvalidArgumentError("the mean of no numbers");
  }
  int64_t sum = 0;
  for (int64_t n : numbers) {
    ::example::v1::AddRequest add;
    add.set_a(sum);
    add.set_b(n);
    absl::StatusOr<::example::v1::AddReply> reply =
        calculator.Add(add, options);
    if (!reply.ok()) {
      return absl::Status(reply.status().code(),
                          absl::StrCat("Add(", sum, ", ", n,
                                       ") failed: ", reply.status().message()));
    }
    sum = reply->sum();
  }
  ::example::v1::DivideRequest divide;
  divide.set_dividend(sum);
  divide.set_divisor(static_cast<int64_t>(numbers.size()));
  absl::StatusOr<::example::v1::DivideReply> quotient =
      calculator.Divide(divide, options);
  if (!quotient.ok()) {
    return absl::Status(
        quotient.status().code(),
        absl::StrCat("Divide failed: ", quotient.status().message()));
  }
  return quotient->quotient();
}

}  // namespace example_calculator

#endif  // NATSRPC_EXAMPLES_CALCULATOR_MEAN_H_
