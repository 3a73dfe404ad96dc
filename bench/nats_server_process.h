// Copyright 2026 The natsrpc Authors.
//
// Starts a nats-server of our own on a free 127.0.0.1 port for the duration of
// a benchmark run, and stops exactly that process.

#ifndef NATSRPC_BENCH_NATS_SERVER_PROCESS_H_
#define NATSRPC_BENCH_NATS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace natsrpc_bench {

class NatsServerProcess {
 public:
  NatsServerProcess() = default;
  ~NatsServerProcess();  // Stop()

  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // Finds the binary (`binary` if not empty, else $NATS_SERVER, else
  // /usr/sbin/nats-server, else `nats-server` on PATH), writes a config file
  // into a fresh temporary directory, starts the server on a free loopback
  // port and waits until it accepts connections.
  absl::Status Start(const std::string& binary);
  // SIGTERM to the child we started (SIGKILL after 5 s), then reaps it.
  void Stop();

  std::string url() const;
  pid_t pid() const { return pid_; }
  const std::string& binary() const { return binary_; }
  // `nats-server --version` of the binary, e.g. "nats-server: v2.9.10".
  std::string version() const;

  // CPU time (user + system) the server process has used so far, in
  // microseconds, from /proc/<pid>/stat (clock-tick resolution).
  int64_t CpuMicros() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string binary_;
  std::string dir_;
};

// An unused TCP port on 127.0.0.1 (bound, read back and released).
int FreeLoopbackPort();

// CPU time (user + system) of this process so far, in microseconds.
int64_t SelfCpuMicros();

// CPU time used by all processes of the machine so far (their own and that
// of their reaped children), in microseconds, from /proc/<pid>/stat.
int64_t MachineBusyCpuMicros();

}  // namespace natsrpc_bench

#endif  // NATSRPC_BENCH_NATS_SERVER_PROCESS_H_
