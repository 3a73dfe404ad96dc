// Copyright 2026 The natsrpc Authors.
//
// natsrpc_unary_profile: a fixed number of echo calls through one contender
// of natsrpc_bench, for instruction counts (docs/benchmarks.md, "Instruction
// counts"). Wall time and CPU time on a shared machine are noise; the number
// of instructions a call costs is not. Run it under callgrind:
//
//   valgrind --tool=callgrind --callgrind-out-file=cg.out
//     build/bench/natsrpc_unary_profile --only natsrpc_async
//     --inflight 1024 --calls 20000        (one command line)
//   callgrind_annotate cg.out | head   # "PROGRAM TOTALS" / calls = Ir per call
//
// The program warms up (--warmup calls), zeroes callgrind's counters, makes
// --calls calls with --inflight in flight (asynchronous contenders; blocking
// ones are not supported), dumps the counters and prints the number of calls
// completed between zero and dump. Outside valgrind the client requests are
// no-ops and it prints the process CPU time per call instead (client and
// server of the contender live in this process; the nats-server does not).

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "contender.h"
#include "nats_server_process.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(x)
#define RUNNING_ON_VALGRIND 0
#endif

namespace natsrpc_bench {
namespace {

int64_t ProcessCpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * int64_t{1000000} +
         u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

class FixedLoop final : public CompletionSink {
 public:
  FixedLoop(Contender& contender, int64_t total)
      : contender_(contender), total_(total) {}

  void Done(uint32_t slot, bool ok) override {
    if (!ok) failed_.fetch_add(1, std::memory_order_relaxed);
    const int64_t done = completed_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (started_.fetch_add(1, std::memory_order_acq_rel) < total_ && ok) {
      contender_.Start(slot);
    } else {
      outstanding_.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (done == mark_.load(std::memory_order_acquire) ||
        outstanding_.load(std::memory_order_acquire) == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }

  // Starts `inflight` calls; returns at once.
  void Begin(uint32_t inflight) {
    outstanding_.store(inflight);
    started_.store(inflight);
    contender_.Prepare(inflight, this);
    for (uint32_t i = 0; i < inflight; ++i) contender_.Start(i);
  }

  // Waits until `n` calls completed (or all ended); returns completed().
  int64_t WaitFor(int64_t n) {
    mark_.store(n, std::memory_order_release);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return completed_.load() >= n || outstanding_.load() == 0;
    });
    return completed_.load();
  }

  void WaitDrained() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_.load() == 0; });
  }

  int64_t failed() const { return failed_.load(); }

 private:
  Contender& contender_;
  const int64_t total_;
  std::atomic<int64_t> started_{0};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<int64_t> mark_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
};

int Main(int argc, char** argv) {
  std::string only = "natsrpc_async";
  uint32_t inflight = 1024;
  int64_t calls = 20000;
  int64_t warmup = 5000;
  size_t payload = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--only") {
      only = value;
    } else if (flag == "--inflight") {
      inflight = static_cast<uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--calls") {
      calls = std::strtoll(value, nullptr, 10);
    } else if (flag == "--warmup") {
      warmup = std::strtoll(value, nullptr, 10);
    } else if (flag == "--payload") {
      payload = std::strtoul(value, nullptr, 10);
    } else if (flag == "--mutex-deadlock-detection") {
      // Debian's abseil is built without NDEBUG, so absl::Mutex checks for
      // lock cycles on every Lock unless the application turns it off
      // (docs/platform.md); "off" measures what that costs.
      if (std::string(value) == "off") {
        absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
      }
    } else {
      std::fprintf(stderr,
                   "usage: natsrpc_unary_profile [--only ID] [--inflight N] "
                   "[--calls N] [--warmup N] [--payload BYTES] "
                   "[--mutex-deadlock-detection on|off]\n");
      return 2;
    }
  }
  std::vector<ContenderFactory> factories = RawNatsContenders();
  for (ContenderFactory& f : NatsrpcContenders()) factories.push_back(f);
  std::unique_ptr<Contender> contender;
  for (const ContenderFactory& f : factories) {
    std::unique_ptr<Contender> c = f();
    if (c->id() == only) contender = std::move(c);
  }
  if (contender == nullptr || contender->blocking()) {
    std::fprintf(stderr, "no asynchronous contender named %s\n", only.c_str());
    return 2;
  }
  NatsServerProcess server;
  if (absl::Status s = server.Start(""); !s.ok()) {
    std::fprintf(stderr, "nats-server: %s\n", s.ToString().c_str());
    return 1;
  }
  Env env;
  env.nats_url = server.url();
  if (absl::Status s = contender->Setup(env); !s.ok()) {
    std::fprintf(stderr, "setup: %s\n", s.ToString().c_str());
    return 1;
  }
  contender->SetPayload(payload);
  FixedLoop loop(*contender, warmup + calls);
  loop.Begin(inflight);
  const int64_t zero_at = loop.WaitFor(warmup);
  CALLGRIND_ZERO_STATS;
  const int64_t cpu0 = ProcessCpuMicros();
  const int64_t dump_at = loop.WaitFor(warmup + calls);
  CALLGRIND_DUMP_STATS_AT("measured calls");
  const int64_t cpu1 = ProcessCpuMicros();
  loop.WaitDrained();
  contender->Teardown();
  const int64_t measured = dump_at - zero_at;
  std::printf("%s: %lld calls measured (%lld in flight, %zu B), %lld failed\n",
              only.c_str(), static_cast<long long>(measured),
              static_cast<long long>(inflight), payload,
              static_cast<long long>(loop.failed()));
  if (!RUNNING_ON_VALGRIND && measured > 0) {
    std::printf("process CPU per call: %.2f us\n",
                static_cast<double>(cpu1 - cpu0) / measured);
  }
  return loop.failed() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace natsrpc_bench

int main(int argc, char** argv) { return natsrpc_bench::Main(argc, argv); }
