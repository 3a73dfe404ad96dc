// Copyright 2026 The natsrpc Authors.
//
// The calculator's handlers (example.v1.Calculator), shared by
// calculator_server (server.cc) and the unit test that runs them through
// the in-process test channel (calculator_in_process_test.cc).

#ifndef NATSRPC_EXAMPLES_CALCULATOR_CALCULATOR_SERVICE_H_
#define NATSRPC_EXAMPLES_CALCULATOR_CALCULATOR_SERVICE_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "example/v1/calculator.natsrpc.h"

namespace example_calculator {

// Add, Divide and Echo. Each Add and Divide logs one line such as
// "alice: Divide(1, 0) -> INVALID_ARGUMENT: division by zero" to `log`,
// which may be called from several worker threads at once.
class CalculatorService : public ::example::v1::Calculator::Service {
 public:
  explicit CalculatorService(std::function<void(const std::string&)> log)
      : log_(std::move(log)) {}

  absl::Status Add(natsrpc::ServerContext& context,
                   const ::example::v1::AddRequest& request,
                   ::example::v1::AddReply& reply) override;
  absl::Status Divide(natsrpc::ServerContext& context,
                      const ::example::v1::DivideRequest& request,
                      ::example::v1::DivideReply& reply) override;
  absl::Status Echo(natsrpc::ServerContext& context,
                    const ::example::v1::EchoMessage& request,
                    ::example::v1::EchoMessage& reply) override;

 private:
  // Logs the outcome of a call and returns its status.
  absl::Status Log(const natsrpc::ServerContext& context,
                   const std::string& call, absl::Status status,
                   const std::string& result = "") const;

  const std::function<void(const std::string&)> log_;
};

}  // namespace example_calculator

#endif  // NATSRPC_EXAMPLES_CALCULATOR_CALCULATOR_SERVICE_H_
