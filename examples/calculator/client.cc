// The calculator client: calls example.v1.Calculator on a responder, blocking
// and asynchronously, and checks the answers.
//
// With calculator_server running (see server.cc; scripts/demo.sh does all of
// it):
//
//   build/examples/calculator_client --url nats://127.0.0.1:4222 --requester alice --responder bob
//
// prints
//
//   Add(2, 3) = 5
//   Divide(17, 5) = 3 remainder 2
//   Divide(1, 0) -> INVALID_ARGUMENT: division by zero (as expected)
//   AddAsync(40, 2) = 42
//
// and exits 0. Any other outcome exits 1, e.g. without a server:
//
//   Add(2, 3) -> UNAVAILABLE: ... (no responders)

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "example/v1/calculator.natsrpc.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, requester, "alice", "who calls");
ABSL_FLAG(std::string, responder, "bob", "who is called");

namespace {

using ::example::v1::AddReply;
using ::example::v1::AddRequest;
using ::example::v1::Calculator;
using ::example::v1::DivideReply;
using ::example::v1::DivideRequest;

void Print(const std::string& line) { std::printf("%s\n", line.c_str()); }

AddRequest MakeAdd(int64_t a, int64_t b) {
  AddRequest request;
  request.set_a(a);
  request.set_b(b);
  return request;
}

DivideRequest MakeDivide(int64_t dividend, int64_t divisor) {
  DivideRequest request;
  request.set_dividend(dividend);
  request.set_divisor(divisor);
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Calls example.v1.Calculator over NATS.");
  absl::ParseCommandLine(argc, argv);

  // Option structs are aggregates; members not named keep their defaults.
  absl::StatusOr<natsrpc::Connection> connection = natsrpc::Connect(
      natsrpc::ConnectOptions{.url = absl::GetFlag(FLAGS_url)});
  if (!connection.ok()) {
    Print("cannot connect: " + connection.status().ToString());
    return 1;
  }
  Calculator::Client calculator(
      *connection,
      natsrpc::ClientOptions{.requester = absl::GetFlag(FLAGS_requester),
                             .responder = absl::GetFlag(FLAGS_responder)});
  if (!calculator.status().ok()) {
    Print("bad client options: " + calculator.status().ToString());
    return 1;
  }

  bool ok = true;

  // Blocking call with the IDL's default timeout (5 s for Add).
  absl::StatusOr<AddReply> sum = calculator.Add(MakeAdd(2, 3));
  if (sum.ok()) {
    Print(absl::StrCat("Add(2, 3) = ", sum->sum()));
    ok = ok && sum->sum() == 5;
  } else {
    Print("Add(2, 3) -> " + sum.status().ToString());
    ok = false;
  }

  // Blocking call with a per-call timeout.
  natsrpc::CallOptions call_options;
  call_options.timeout = absl::Seconds(2);
  absl::StatusOr<DivideReply> quotient =
      calculator.Divide(MakeDivide(17, 5), call_options);
  if (quotient.ok()) {
    Print(absl::StrCat("Divide(17, 5) = ", quotient->quotient(), " remainder ",
                       quotient->remainder()));
    ok = ok && quotient->quotient() == 3 && quotient->remainder() == 2;
  } else {
    Print("Divide(17, 5) -> " + quotient.status().ToString());
    ok = false;
  }

  // The server's error status arrives as the call's status.
  absl::StatusOr<DivideReply> by_zero = calculator.Divide(MakeDivide(1, 0));
  if (absl::IsInvalidArgument(by_zero.status())) {
    Print("Divide(1, 0) -> " + by_zero.status().ToString() + " (as expected)");
  } else {
    Print(by_zero.ok() ? "Divide(1, 0) unexpectedly succeeded"
                       : "Divide(1, 0) -> " + by_zero.status().ToString());
    ok = false;
  }

  // Asynchronous call: the callback runs on a runtime thread when the call
  // ends; it must not block.
  absl::StatusOr<AddReply> async_sum;
  absl::Notification done;
  calculator.AddAsync(MakeAdd(40, 2),
                      [&async_sum, &done](absl::StatusOr<AddReply> reply) {
                        async_sum = std::move(reply);
                        done.Notify();
                      });
  done.WaitForNotification();
  if (async_sum.ok()) {
    Print(absl::StrCat("AddAsync(40, 2) = ", async_sum->sum()));
    ok = ok && async_sum->sum() == 42;
  } else {
    Print("AddAsync(40, 2) -> " + async_sum.status().ToString());
    ok = false;
  }

  return ok ? 0 : 1;
}
