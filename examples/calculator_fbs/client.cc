// build/examples/calculator_fbs_client --requester alice --responder bob
//
// The FlatBuffers calculator client: calls example.v1.Calculator
// (fbs/example/calculator.fbs) on a responder, blocking and asynchronously,
// and checks the answers. Requests are built in the message's
// FlatBufferBuilder; replies are verified views into the received NATS
// messages (no copy).
//
// With calculator_fbs_server running (see server.cc), it prints
//
//   Add(2, 3) = 5
//   Divide(17, 5) = 3 remainder 2
//   Divide(1, 0) -> INVALID_ARGUMENT: division by zero (as expected)
//   Echo(65536 bytes) = 65536 bytes, read in place
//   AddAsync(40, 2) = 42
//
// and exits 0. Any other outcome exits 1, e.g. without a server:
//
//   Add(2, 3) -> UNAVAILABLE: ... (no responders)

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "calculator.natsrpc.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, requester, "alice", "who calls");
ABSL_FLAG(std::string, responder, "bob", "who is called");

namespace {

namespace ev1 = ::example::v1;
using ::natsrpc::FlatMessage;

void Print(const std::string& line) { std::printf("%s\n", line.c_str()); }

FlatMessage<ev1::AddRequest> MakeAdd(int64_t a, int64_t b) {
  FlatMessage<ev1::AddRequest> request;
  request.Finish(ev1::CreateAddRequest(request.builder(), a, b));
  return request;
}

FlatMessage<ev1::DivideRequest> MakeDivide(int64_t dividend, int64_t divisor) {
  FlatMessage<ev1::DivideRequest> request;
  request.Finish(
      ev1::CreateDivideRequest(request.builder(), dividend, divisor));
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Calls example.v1.Calculator (FlatBuffers) over NATS.");
  absl::ParseCommandLine(argc, argv);
  const std::string url = absl::GetFlag(FLAGS_url);

  absl::StatusOr<natsrpc::Connection> connection =
      natsrpc::Connect(natsrpc::ConnectOptions{.url = url});
  if (!connection.ok()) {
    Print(absl::StrCat("cannot connect to ", url, ": ",
                       connection.status().ToString()));
    return 1;
  }
  ev1::Calculator::Client calc(
      *connection,
      natsrpc::ClientOptions{.requester = absl::GetFlag(FLAGS_requester),
                             .responder = absl::GetFlag(FLAGS_responder)});

  absl::StatusOr<FlatMessage<ev1::AddReply>> sum = calc.Add(MakeAdd(2, 3));
  if (!sum.ok()) {
    Print("Add(2, 3) -> " + sum.status().ToString());
    return 1;
  }
  Print(absl::StrCat("Add(2, 3) = ", (*sum)->sum()));

  absl::StatusOr<FlatMessage<ev1::DivideReply>> q =
      calc.Divide(MakeDivide(17, 5));
  if (!q.ok()) {
    Print("Divide(17, 5) -> " + q.status().ToString());
    return 1;
  }
  Print(absl::StrCat("Divide(17, 5) = ", (*q)->quotient(), " remainder ",
                     (*q)->remainder()));

  q = calc.Divide(MakeDivide(1, 0));
  if (q.status().code() != absl::StatusCode::kInvalidArgument) {
    Print("Divide(1, 0) -> " + q.status().ToString() +
          " (expected INVALID_ARGUMENT)");
    return 1;
  }
  Print("Divide(1, 0) -> " + q.status().ToString() + " (as expected)");

  std::vector<uint8_t> payload(64 * 1024, 0x5a);
  FlatMessage<ev1::EchoMessage> echo;
  echo.Finish(ev1::CreateEchoMessageDirect(echo.builder(), &payload));
  absl::StatusOr<FlatMessage<ev1::EchoMessage>> back = calc.Echo(echo);
  if (!back.ok() || (*back)->payload() == nullptr ||
      (*back)->payload()->size() != payload.size()) {
    Print("Echo(65536 bytes) -> " + back.status().ToString());
    return 1;
  }
  // The reply is a view into the received message: no copy was made.
  const bool in_place =
      back->source_message() != nullptr &&
      back->source_message()->data().data() <= back->bytes().data();
  Print(absl::StrCat("Echo(65536 bytes) = ", (*back)->payload()->size(),
                     " bytes", in_place ? ", read in place" : ""));

  absl::Notification done;
  bool ok = false;
  calc.AddAsync(MakeAdd(40, 2),
                [&](absl::StatusOr<FlatMessage<ev1::AddReply>> r) {
                  if (r.ok()) {
                    Print(absl::StrCat("AddAsync(40, 2) = ", (*r)->sum()));
                    ok = (*r)->sum() == 42;
                  } else {
                    Print("AddAsync(40, 2) -> " + r.status().ToString());
                  }
                  done.Notify();
                });
  if (!done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
    Print("AddAsync(40, 2) never completed");
    return 1;
  }
  return ok ? 0 : 1;
}
