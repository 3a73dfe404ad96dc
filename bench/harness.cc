// Copyright 2026 The natsrpc Authors.

#include "harness.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace natsrpc_bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// Sleeps for `seconds`, and longer (up to `cap` seconds) until `calls()` has
// grown by `min_calls`: a window shorter than one round of calls in flight
// (1024 calls of 64 KB take a few hundred ms) would measure nothing.
template <typename Calls>
void WaitWindow(double seconds, double cap, uint64_t min_calls, Calls calls) {
  const auto start = Clock::now();
  const uint64_t first = calls();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  while (calls() - first < min_calls &&
         Clock::now() - start < std::chrono::duration<double>(cap)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

// Per-slot state: only the thread completing the slot's current call touches
// it, so it needs no lock.
struct alignas(64) Slot {
  int64_t start_ns = 0;
  std::vector<int64_t> latencies_ns;
};

// Snapshot of the counters at a window edge.
struct Edge {
  int64_t ns = 0;
  uint64_t calls = 0;
  int64_t cpu_us = 0;          // this process + nats-server
  int64_t server_cpu_us = 0;   // nats-server
  int64_t machine_cpu_us = 0;  // all processes
};

class Measurement {
 public:
  Measurement(uint32_t inflight, const NatsServerProcess* server)
      : slots_(inflight), server_(server) {
    for (Slot& s : slots_) s.latencies_ns.reserve(4096);
  }

  Edge Snapshot() const {
    Edge e;
    e.ns = NowNs();
    e.calls = completed_.load(std::memory_order_relaxed);
    e.server_cpu_us = server_ ? server_->CpuMicros() : 0;
    e.cpu_us = SelfCpuMicros() + e.server_cpu_us;
    e.machine_cpu_us = MachineBusyCpuMicros();
    return e;
  }

  // Records the end of one call of `slot` at `now_ns`.
  void Record(Slot& slot, int64_t now_ns, bool ok) {
    if (!ok) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (phase_.load(std::memory_order_relaxed) == kMeasure) {
      slot.latencies_ns.push_back(now_ns - slot.start_ns);
    }
    completed_.fetch_add(1, std::memory_order_relaxed);
  }

  Sample Finish(const Edge& begin, const Edge& end) {
    Sample out;
    out.window_seconds = static_cast<double>(end.ns - begin.ns) / 1e9;
    out.calls = end.calls - begin.calls;
    out.errors = errors_.load();
    std::vector<int64_t> all;
    for (Slot& s : slots_) {
      all.insert(all.end(), s.latencies_ns.begin(), s.latencies_ns.end());
    }
    if (out.calls == 0 || all.empty()) {
      out.error = absl::StrCat("no call completed in the window (", out.errors,
                               " errors)");
      return out;
    }
    auto percentile = [&all](double q) {
      size_t rank = static_cast<size_t>(q * static_cast<double>(all.size()));
      if (rank >= all.size()) rank = all.size() - 1;
      std::nth_element(all.begin(), all.begin() + static_cast<long>(rank),
                       all.end());
      return static_cast<double>(all[rank]) / 1e3;
    };
    out.p50_us = percentile(0.50);
    out.p99_us = percentile(0.99);
    out.calls_per_second = static_cast<double>(out.calls) / out.window_seconds;
    out.cpu_us_per_call = static_cast<double>(end.cpu_us - begin.cpu_us) /
                          static_cast<double>(out.calls);
    out.nats_server_cpu_us_per_call =
        static_cast<double>(end.server_cpu_us - begin.server_cpu_us) /
        static_cast<double>(out.calls);
    out.foreign_cpu_cores =
        std::max<double>(
            0, static_cast<double>((end.machine_cpu_us - begin.machine_cpu_us) -
                                   (end.cpu_us - begin.cpu_us))) /
        1e6 / out.window_seconds;
    out.ok = true;
    return out;
  }

  uint64_t completed() const {
    return completed_.load(std::memory_order_relaxed);
  }
  std::vector<Slot>& slots() { return slots_; }
  std::atomic<int>& phase() { return phase_; }

 private:
  std::vector<Slot> slots_;
  const NatsServerProcess* server_;
  std::atomic<int> phase_{kWarmup};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> errors_{0};
};

// Closed loop over an asynchronous contender: every completion starts the
// slot's next call until the window ends.
class AsyncLoop final : public CompletionSink {
 public:
  AsyncLoop(Contender& contender, uint32_t inflight,
            const NatsServerProcess* server)
      : contender_(contender), m_(inflight, server) {}

  void Done(uint32_t slot_index, bool ok) override {
    Slot& slot = m_.slots()[slot_index];
    m_.Record(slot, NowNs(), ok);
    // A failed slot is not restarted: a contender that fails at once would
    // otherwise recurse.
    if (ok && m_.phase().load(std::memory_order_acquire) != kStop) {
      slot.start_ns = NowNs();
      contender_.Start(slot_index);
      return;
    }
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      drained_ = true;
      cv_.notify_all();
    }
  }

  Sample Run(const Timing& timing) {
    const uint32_t n = static_cast<uint32_t>(m_.slots().size());
    outstanding_.store(static_cast<int>(n));
    contender_.Prepare(n, this);
    for (uint32_t i = 0; i < n; ++i) {
      m_.slots()[i].start_ns = NowNs();
      contender_.Start(i);
    }
    auto calls = [this] { return m_.completed(); };
    WaitWindow(timing.warmup_seconds, timing.drain_seconds, n, calls);
    const Edge begin = m_.Snapshot();
    m_.phase().store(kMeasure);
    WaitWindow(timing.seconds, timing.drain_seconds, n, calls);
    m_.phase().store(kStop);
    const Edge end = m_.Snapshot();
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock,
                        std::chrono::duration<double>(timing.drain_seconds),
                        [this] { return drained_; })) {
        Sample s;
        s.error =
            absl::StrCat(outstanding_.load(), " calls still in flight after ",
                         timing.drain_seconds, " s");
        return s;
      }
    }
    return m_.Finish(begin, end);
  }

  bool drained() {
    std::lock_guard<std::mutex> lock(mu_);
    return drained_;
  }

 private:
  Contender& contender_;
  Measurement m_;
  std::atomic<int> outstanding_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool drained_ = false;
};

Sample RunBlocking(Contender& contender, uint32_t threads, const Timing& timing,
                   const NatsServerProcess* server) {
  Measurement m(threads, server);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) {
    workers.emplace_back([&m, &contender, i] {
      Slot& slot = m.slots()[i];
      while (m.phase().load(std::memory_order_acquire) != kStop) {
        slot.start_ns = NowNs();
        const bool ok = contender.Call();
        m.Record(slot, NowNs(), ok);
      }
    });
  }
  auto calls = [&m] { return m.completed(); };
  WaitWindow(timing.warmup_seconds, timing.drain_seconds, threads, calls);
  const Edge begin = m.Snapshot();
  m.phase().store(kMeasure);
  WaitWindow(timing.seconds, timing.drain_seconds, threads, calls);
  m.phase().store(kStop);
  const Edge end = m.Snapshot();
  for (std::thread& t : workers) t.join();
  return m.Finish(begin, end);
}

}  // namespace

Sample RunRow(Contender& contender, uint32_t inflight, const Timing& timing,
              const NatsServerProcess* server) {
  if (contender.blocking()) {
    return RunBlocking(contender, inflight, timing, server);
  }
  auto loop = std::make_unique<AsyncLoop>(contender, inflight, server);
  Sample s = loop->Run(timing);
  if (!loop->drained()) {
    // Calls still reference the loop; keep it alive rather than crash.
    (void)loop.release();
  }
  return s;
}

std::string MakePayload(size_t bytes) {
  std::string out(bytes, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < bytes; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

}  // namespace natsrpc_bench
