// Copyright 2026 The natsrpc Authors.

#include "calculator/calculator_service.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace example_calculator {

using ::example::v1::AddReply;
using ::example::v1::AddRequest;
using ::example::v1::DivideReply;
using ::example::v1::DivideRequest;
using ::example::v1::EchoMessage;

absl::Status CalculatorService::Log(const natsrpc::ServerContext& context,
                                    const std::string& call,
                                    absl::Status status,
                                    const std::string& result) const {
  log_(absl::StrCat(context.requester(), ": ", call,
                    status.ok() ? " = " + result : " -> " + status.ToString()));
  return status;
}

absl::Status CalculatorService::Add(natsrpc::ServerContext& context,
                                    const AddRequest& request,
                                    AddReply& reply) {
  const std::string call =
      absl::StrCat("Add(", request.a(), ", ", request.b(), ")");
  int64_t sum = 0;
  if (__builtin_add_overflow(request.a(), request.b(), &sum)) {
    return Log(context, call, absl::OutOfRangeError("sum overflows int64"));
  }
  reply.set_sum(sum);
  return Log(context, call, absl::OkStatus(), absl::StrCat(sum));
}

absl::Status CalculatorService::Divide(natsrpc::ServerContext& context,
                                       const DivideRequest& request,
                                       DivideReply& reply) {
  const std::string call =
      absl::StrCat("Divide(", request.dividend(), ", ", request.divisor(), ")");
  if (request.divisor() == 0) {
    return Log(context, call, absl::InvalidArgumentError("division by zero"));
  }
  if (request.dividend() == std::numeric_limits<int64_t>::min() &&
      request.divisor() == -1) {
    return Log(context, call,
               absl::OutOfRangeError("quotient overflows int64"));
  }
  reply.set_quotient(request.dividend() / request.divisor());
  reply.set_remainder(request.dividend() % request.divisor());
  return Log(context, call, absl::OkStatus(),
             absl::StrCat(reply.quotient(), " remainder ", reply.remainder()));
}

absl::Status CalculatorService::Echo(natsrpc::ServerContext&,
                                     const EchoMessage& request,
                                     EchoMessage& reply) {
  reply = request;
  return absl::OkStatus();
}

}  // namespace example_calculator
