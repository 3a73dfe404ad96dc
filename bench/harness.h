// Copyright 2026 The natsrpc Authors.
//
// Runs one measurement ("row"): a contender, a payload size and a number of
// calls in flight, for a warm-up period and then a timed window.

#ifndef NATSRPC_BENCH_HARNESS_H_
#define NATSRPC_BENCH_HARNESS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "contender.h"
#include "nats_server_process.h"

namespace natsrpc_bench {

// Both the warm-up and the window last at least until as many calls as are
// in flight have completed in them (at most drain_seconds).
struct Timing {
  double warmup_seconds = 0.3;
  double seconds = 1.5;
  // How long calls still in flight at the end of a window may take to end.
  double drain_seconds = 30;
};

// The figures of one run of one row.
struct Sample {
  bool ok = false;
  std::string error;  // why !ok
  double calls_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  double cpu_us_per_call = 0;  // this process + nats-server, per call
  double nats_server_cpu_us_per_call = 0;  // the nats-server's part of it
  // CPU used during the window by processes other than this one and the
  // nats-server, in cores: how busy the rest of the machine was.
  double foreign_cpu_cores = 0;
  double window_seconds = 0;
  uint64_t calls = 0;   // completed in the window
  uint64_t errors = 0;  // failed calls (whole run, warm-up included)
};

// Runs `contender` (already Setup() and SetPayload()) with `inflight` calls
// in flight. `server` may be null (no nats-server CPU to add).
Sample RunRow(Contender& contender, uint32_t inflight, const Timing& timing,
              const NatsServerProcess* server);

}  // namespace natsrpc_bench

#endif  // NATSRPC_BENCH_HARNESS_H_
