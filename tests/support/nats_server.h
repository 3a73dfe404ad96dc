// Copyright 2026 The natsrpc Authors.
//
// Starts a real nats-server for integration tests: on a free port of
// 127.0.0.1 chosen by the server itself (no race with other tests), waits
// until it accepts connections, and stops exactly the process it started.

#ifndef NATSRPC_TESTS_SUPPORT_NATS_SERVER_H_
#define NATSRPC_TESTS_SUPPORT_NATS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace natsrpc::testing {

class NatsServer {
 public:
  struct Options {
    // Contents of a config file passed with -c (e.g. authorization blocks).
    std::string config;
    // Extra command line arguments.
    std::vector<std::string> args;
    // Join a cluster: listen for routes on a free loopback port (kept across
    // Restart()) and connect to these route URLs (nats-route://...).
    bool cluster = false;
    std::vector<std::string> routes;
  };

  // `n` servers forming one cluster on loopback: the first is the seed, the
  // others route to it (and find each other through it).
  static absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>> StartCluster(
      int n, Options options);
  static absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>> StartCluster(
      int n) {
    return StartCluster(n, Options());
  }

  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start() {
    return Start(Options());
  }

  ~NatsServer();

  int port() const { return port_; }
  // nats://127.0.0.1:<port>
  std::string url() const;

  // SIGKILL, as a crash would; the port is kept for Restart().
  absl::Status Kill();
  // Starts the server again on the same port.
  absl::Status Restart();
  // SIGTERM and wait; SIGKILL after 10 s.
  absl::Status Stop();
  // SIGSTOP: the process keeps its sockets open but answers nothing, as a
  // hung server or a partitioned host would. Resume() sends SIGCONT.
  absl::Status Pause();
  absl::Status Resume();

  // nats-route://127.0.0.1:<cluster port>, for Options::routes; empty when
  // the server was not started with Options::cluster.
  std::string route_url() const;

  pid_t pid() const { return pid_; }
  // What the server has logged so far (all runs of this instance).
  std::string log() const;

 private:
  NatsServer(Options options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Launch(int port);
  absl::Status WaitExit(int timeout_ms);

  Options options_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int cluster_port_ = 0;
  bool paused_ = false;
};

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_NATS_SERVER_H_
