// build/examples/calculator_fbs_server --responder bob
//
// The FlatBuffers calculator server: answers example.v1.Calculator calls
// (fbs/example/calculator.fbs: Add, Divide, Echo) for one responder, until
// Ctrl-C or SIGTERM. Requests are read in place from the received NATS
// messages (verified first); replies are built in the FlatBufferBuilder the
// runtime provides and published without a copy.
//
// Start a NATS server on 127.0.0.1:4222 first (`nats-server -a 127.0.0.1 &`;
// --url picks another). It prints one line when ready and one per call, e.g.
// for calculator_fbs_client:
//
//   calculator_fbs_server: bob serving requests.*.bob.example_v1.Calculator.*
//   on nats://127.0.0.1:4222 alice: Add(2, 3) = 5 alice: Divide(17, 5) = 3
//   remainder 2 alice: Divide(1, 0) -> INVALID_ARGUMENT: division by zero
//   alice: Echo(65536 bytes)
//   alice: Add(40, 2) = 42
//
// It speaks the same subjects as the protobuf calculator_server, so run one
// or the other for a responder: a client must use the matching codec.

#include <pthread.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "calculator.natsrpc.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, responder, "bob", "who this server answers for");

namespace {

namespace ev1 = ::example::v1;
using ::natsrpc::FlatMessage;

// Handlers run on several worker threads; one fputs per line keeps lines whole.
void Print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

absl::Status Log(const natsrpc::ServerContext& context, const std::string& call,
                 absl::Status status, const std::string& result = "") {
  Print(absl::StrCat(context.requester(), ": ", call,
                     status.ok() ? (result.empty() ? "" : " = " + result)
                                 : " -> " + status.ToString()));
  return status;
}

class CalculatorImpl final : public ev1::Calculator::Service {
 public:
  absl::Status Add(natsrpc::ServerContext& context,
                   const FlatMessage<ev1::AddRequest>& request,
                   FlatMessage<ev1::AddReply>& reply) override {
    const std::string call =
        absl::StrCat("Add(", request->a(), ", ", request->b(), ")");
    int64_t sum = 0;
    if (__builtin_add_overflow(request->a(), request->b(), &sum)) {
      return Log(context, call, absl::OutOfRangeError("sum overflows int64"));
    }
    reply.Finish(ev1::CreateAddReply(reply.builder(), sum));
    return Log(context, call, absl::OkStatus(), absl::StrCat(sum));
  }

  absl::Status Divide(natsrpc::ServerContext& context,
                      const FlatMessage<ev1::DivideRequest>& request,
                      FlatMessage<ev1::DivideReply>& reply) override {
    const int64_t dividend = request->dividend();
    const int64_t divisor = request->divisor();
    const std::string call =
        absl::StrCat("Divide(", dividend, ", ", divisor, ")");
    if (divisor == 0) {
      return Log(context, call, absl::InvalidArgumentError("division by zero"));
    }
    if (dividend == std::numeric_limits<int64_t>::min() && divisor == -1) {
      return Log(context, call,
                 absl::OutOfRangeError("quotient overflows int64"));
    }
    reply.Finish(ev1::CreateDivideReply(reply.builder(), dividend / divisor,
                                        dividend % divisor));
    return Log(
        context, call, absl::OkStatus(),
        absl::StrCat(dividend / divisor, " remainder ", dividend % divisor));
  }

  absl::Status Echo(natsrpc::ServerContext& context,
                    const FlatMessage<ev1::EchoMessage>& request,
                    FlatMessage<ev1::EchoMessage>& reply) override {
    const flatbuffers::Vector<uint8_t>* in = request->payload();
    const size_t size = in == nullptr ? 0 : in->size();
    auto& b = reply.builder();
    reply.Finish(ev1::CreateEchoMessage(
        b, in == nullptr ? 0 : b.CreateVector(in->data(), size)));
    return Log(context, absl::StrCat("Echo(", size, " bytes)"),
               absl::OkStatus());
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves example.v1.Calculator (FlatBuffers) over NATS.");
  absl::ParseCommandLine(argc, argv);
  const std::string url = absl::GetFlag(FLAGS_url);
  const std::string responder = absl::GetFlag(FLAGS_responder);

  // Block the stop signals before the runtime starts its threads, so that
  // only the sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<natsrpc::Connection> connection =
      natsrpc::Connect(natsrpc::ConnectOptions{.url = url});
  if (!connection.ok()) {
    Print(absl::StrCat("calculator_fbs_server: cannot connect to ", url, ": ",
                       connection.status().ToString()));
    return 1;
  }

  CalculatorImpl calculator;  // must outlive the server
  natsrpc::Server server(*connection,
                         natsrpc::ServerOptions{.responder = responder});
  if (absl::Status status = server.AddService(calculator); !status.ok()) {
    Print(absl::StrCat("calculator_fbs_server: ", status.ToString()));
    return 1;
  }
  Print(absl::StrCat(
      "calculator_fbs_server: ", responder, " serving ",
      natsrpc::ServiceWildcard(responder, ev1::Calculator::kDefaultApp,
                               ev1::Calculator::kServiceName),
      " on ", url));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Shutdown();
  Print(
      absl::StrCat("calculator_fbs_server: stopped by signal ", signal_number));
  return 0;
}
