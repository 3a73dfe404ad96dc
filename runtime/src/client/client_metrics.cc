// Copyright 2026 The natsrpc Authors.

#include "client/client_metrics.h"

#include <utility>

namespace natsrpc::internal {

std::shared_ptr<ClientMethodCounters> ClientMetricsRegistry::Method(
    absl::string_view app, absl::string_view service, absl::string_view method,
    CallKind kind) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<ClientMethodCounters>& slot = methods_[std::make_tuple(
      std::string(app), std::string(service), std::string(method))];
  if (slot == nullptr) {
    slot = std::make_shared<ClientMethodCounters>();
    slot->app = std::string(app);
    slot->service = std::string(service);
    slot->method = std::string(method);
    slot->streaming = kind != CallKind::kUnary;
  }
  return slot;
}

ClientMetrics ClientMetricsRegistry::Snapshot() const {
  ClientMetrics out;
  out.late_replies = replies_->late.load(std::memory_order_relaxed);
  out.duplicate_replies = replies_->duplicate.load(std::memory_order_relaxed);
  out.unknown_replies = replies_->unknown.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  for (const auto& [key, c] : methods_) {
    ClientMethodStats m;
    m.calls = c->calls.load(std::memory_order_relaxed);
    if (m.calls == 0) continue;
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
    for (size_t i = 0; i < m.latency_histogram.size(); ++i) {
      m.latency_histogram[i] =
          c->latency_buckets[i].load(std::memory_order_relaxed);
    }
    m.credit_stalls = c->credit_stalls->load(std::memory_order_relaxed);
    m.retries = c->retries.load(std::memory_order_relaxed);
    if (c->streaming && m.calls > m.finished) {
      m.streams_open = m.calls - m.finished;
    }
    out.methods.push_back(std::move(m));
  }
  return out;
}

}  // namespace natsrpc::internal
