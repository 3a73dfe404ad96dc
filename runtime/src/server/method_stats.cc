// Copyright 2026 The natsrpc Authors.

#include "server/method_stats.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace natsrpc::internal {
namespace {

class CountingCall final : public ServerCallInterceptor {
 public:
  explicit CountingCall(MethodStatsInterceptor::Counters& counters)
      : counters_(counters), start_(absl::Now()) {}

  void OnFinish(const absl::Status& status, Metadata&) override {
    const auto code = static_cast<size_t>(status.code());
    if (code < counters_.by_code.size()) {
      counters_.by_code[code].fetch_add(1, std::memory_order_relaxed);
    }
    const absl::Duration latency = absl::Now() - start_;
    counters_.total_nanos.fetch_add(absl::ToInt64Nanoseconds(latency),
                                    std::memory_order_relaxed);
    counters_.latency_buckets[LatencyBucket(latency)].fetch_add(
        1, std::memory_order_relaxed);
    if (!status.ok()) {
      std::string error = absl::StrCat(absl::StatusCodeToString(status.code()),
                                       ": ", status.message());
      absl::MutexLock lock(&counters_.last_error_mu);
      counters_.last_error = std::move(error);
    }
  }

 private:
  MethodStatsInterceptor::Counters& counters_;
  const absl::Time start_;
};

}  // namespace

std::unique_ptr<ServerCallInterceptor> MethodStatsInterceptor::Intercept(
    const CallInfo& call) {
  return Count(Find(call));
}

std::unique_ptr<ServerCallInterceptor> MethodStatsInterceptor::Count(
    Counters& counters) {
  counters.calls.fetch_add(1, std::memory_order_relaxed);
  return std::make_unique<CountingCall>(counters);
}

MethodStatsInterceptor::Counters& MethodStatsInterceptor::Find(
    const CallInfo& call) {
  return Register(call.app, call.service, call.method, call.kind);
}

MethodStatsInterceptor::Counters& MethodStatsInterceptor::Register(
    absl::string_view app, absl::string_view service, absl::string_view method,
    CallKind kind) {
  const Key key{app, service, method};
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(key);
    if (it != methods_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  auto it = methods_.find(key);
  if (it != methods_.end()) return *it->second;
  auto counters = std::make_unique<Counters>();
  counters->app = std::string(app);
  counters->service = std::string(service);
  counters->method = std::string(method);
  counters->streaming = kind != CallKind::kUnary;
  Counters& c = *counters;
  methods_.emplace(Key{c.app, c.service, c.method}, std::move(counters));
  return c;
}

std::vector<MethodStats> MethodStatsInterceptor::Snapshot() const {
  std::vector<MethodStats> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(methods_.size());
    for (const auto& [key, c] : methods_) {
      MethodStats m;
      m.calls = c->calls.load(std::memory_order_relaxed);
      m.queued = static_cast<uint64_t>(
          std::max<int64_t>(0, c->queued.load(std::memory_order_relaxed)));
      m.resource_exhausted =
          c->resource_exhausted.load(std::memory_order_relaxed);
      // Registered but never used: as before registration existed.
      if (m.calls == 0 && m.queued == 0 && m.resource_exhausted == 0) continue;
      m.app = c->app;
      m.service = c->service;
      m.method = c->method;
      m.streaming = c->streaming;
      for (size_t code = 0; code < c->by_code.size(); ++code) {
        const uint64_t n = c->by_code[code].load(std::memory_order_relaxed);
        if (n == 0) continue;
        m.finished += n;
        if (code == 0) {
          m.ok = n;
        } else {
          m.errors[static_cast<absl::StatusCode>(code)] = n;
        }
      }
      m.total_latency =
          absl::Nanoseconds(c->total_nanos.load(std::memory_order_relaxed));
      {
        absl::MutexLock error_lock(&c->last_error_mu);
        m.last_error = c->last_error;
      }
      for (size_t i = 0; i < m.latency_histogram.size(); ++i) {
        m.latency_histogram[i] =
            c->latency_buckets[i].load(std::memory_order_relaxed);
      }
      m.in_flight = m.calls > m.finished ? m.calls - m.finished : 0;
      if (m.streaming) m.streams_open = m.in_flight;
      m.credit_stalls = c->credit_stalls->load(std::memory_order_relaxed);
      out.push_back(std::move(m));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.app, a.service, a.method) <
           std::tie(b.app, b.service, b.method);
  });
  return out;
}

}  // namespace natsrpc::internal
