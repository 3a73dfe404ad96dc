// The calculator server: answers example.v1.Calculator calls (Add, Divide,
// Echo) for one responder, until Ctrl-C or SIGTERM.
//
// Start a NATS server, then this program (scripts/demo.sh does all of it):
//
//   nats-server -a 127.0.0.1 -p 4222 &
//   build/examples/calculator_server --url nats://127.0.0.1:4222 --responder bob
//
// It prints one line when it is ready and one per call it serves, e.g. for
// the calls of calculator_client:
//
//   calculator_server: bob serving requests.*.bob.example_v1.Calculator.* on nats://127.0.0.1:4222
//   alice: Add(2, 3) = 5
//   alice: Divide(17, 5) = 3 remainder 2
//   alice: Divide(1, 0) -> INVALID_ARGUMENT: division by zero
//   alice: Add(40, 2) = 42
//
// Several servers with the same --responder share the calls between them.
//
// With --metrics_port it also serves its per-method counters
// (natsrpc::Server::method_stats()) in Prometheus' text format on
// http://127.0.0.1:<port>/metrics (0: a free port, printed at start):
//
//   build/examples/calculator_server --responder bob --metrics_port 9464 &
//   curl -s http://127.0.0.1:9464/metrics | grep requests_total
//   natsrpc_server_requests_total{app="example_v1",service="Calculator",method="Add",code="OK"} 2

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "calculator/calculator_service.h"
#include "example/v1/calculator.natsrpc.h"
#include "httplib.h"

ABSL_FLAG(std::string, url, "nats://127.0.0.1:4222", "NATS server URL");
ABSL_FLAG(std::string, responder, "bob", "who this server answers for");
ABSL_FLAG(int, metrics_port, -1,
          "serve Prometheus metrics on http://127.0.0.1:<port>/metrics; "
          "0: a free port; -1: no metrics");

namespace {

using ::example::v1::Calculator;

// Handlers run on several worker threads; one fputs per line keeps lines whole.
void Print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Serves example.v1.Calculator over NATS.");
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

  // Option structs are aggregates; members not named keep their defaults.
  absl::StatusOr<natsrpc::Connection> connection =
      natsrpc::Connect(natsrpc::ConnectOptions{.url = url});
  if (!connection.ok()) {
    Print(absl::StrCat("calculator_server: cannot connect to ", url, ": ",
                       connection.status().ToString()));
    return 1;
  }

  // The handlers (calculator_service.h); must outlive the server.
  example_calculator::CalculatorService calculator(&Print);
  natsrpc::Server server(*connection,
                         natsrpc::ServerOptions{.responder = responder});
  if (absl::Status status = server.AddService(calculator); !status.ok()) {
    Print(absl::StrCat("calculator_server: ", status.ToString()));
    return 1;
  }
  // /metrics: the server's per-method counters as Prometheus text, served
  // by cpp-httplib on its own threads (natsrpc/metrics.h).
  httplib::Server http;
  std::thread http_thread;
  if (const int port = absl::GetFlag(FLAGS_metrics_port); port >= 0) {
    http.Get("/metrics", [&server](const httplib::Request&,
                                   httplib::Response& response) {
      response.set_content(natsrpc::PrometheusText(server.method_stats()),
                           "text/plain; version=0.0.4; charset=utf-8");
    });
    const int bound = port == 0 ? http.bind_to_any_port("127.0.0.1")
                                : (http.bind_to_port("127.0.0.1", port) ? port
                                                                        : -1);
    if (bound < 0) {
      Print(absl::StrCat("calculator_server: cannot listen on 127.0.0.1:",
                         port));
      return 1;
    }
    http_thread = std::thread([&http] { http.listen_after_bind(); });
    Print(absl::StrCat("calculator_server: metrics on http://127.0.0.1:", bound,
                       "/metrics"));
  }

  Print(absl::StrCat("calculator_server: ", responder, " serving ",
                     natsrpc::ServiceWildcard(responder, Calculator::kDefaultApp,
                                              Calculator::kServiceName),
                     " on ", url));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (http_thread.joinable()) {
    http.stop();
    http_thread.join();
  }
  server.Shutdown();
  Print(absl::StrCat("calculator_server: stopped by signal ", signal_number));
  return 0;
}
