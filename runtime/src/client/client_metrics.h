// Copyright 2026 The natsrpc Authors.
//
// The counters behind Connection::client_stats() (natsrpc/metrics.h): per
// method, shared by every client of the connection, found once when a
// client is made (ClientChannel keeps a pointer per method), and updated
// with relaxed atomics on the call path; and the connection's counts of
// replies that found no call (ReplyMux).

#ifndef NATSRPC_SRC_CLIENT_CLIENT_METRICS_H_
#define NATSRPC_SRC_CLIENT_CLIENT_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metrics.h"

namespace natsrpc::internal {

struct ClientMethodCounters {
  std::string app, service, method;
  bool streaming = false;
  std::atomic<uint64_t> calls{0};
  // Attempts after a unary call's first (retries and wait-for-ready
  // re-sends, client/retry.h).
  std::atomic<uint64_t> retries{0};
  // Ended calls by final status code (absl::StatusCode 0..16).
  std::array<std::atomic<uint64_t>, 17> by_code{};
  std::atomic<int64_t> total_nanos{0};
  std::array<std::atomic<uint64_t>, kLatencyBucketBounds.size() + 1>
      latency_buckets{};
  // Shared with the streams' endpoints, which may outlive the connection.
  std::shared_ptr<std::atomic<uint64_t>> credit_stalls =
      std::make_shared<std::atomic<uint64_t>>(0);

  // A call that started at `start` ended with `code`.
  void Finish(absl::StatusCode code, absl::Time start) {
    const auto c = static_cast<size_t>(code);
    if (c < by_code.size()) by_code[c].fetch_add(1, std::memory_order_relaxed);
    const absl::Duration latency = absl::Now() - start;
    total_nanos.fetch_add(absl::ToInt64Nanoseconds(latency),
                          std::memory_order_relaxed);
    latency_buckets[LatencyBucket(latency)].fetch_add(
        1, std::memory_order_relaxed);
  }
};

// Replies to unary calls that had already ended (ClientMetrics).
struct ReplyCounters {
  std::atomic<uint64_t> late{0};
  std::atomic<uint64_t> duplicate{0};
  std::atomic<uint64_t> unknown{0};
};

class ClientMetricsRegistry {
 public:
  // The counters of a method, created on first use. Under a mutex: called
  // when a client is made, not per call.
  std::shared_ptr<ClientMethodCounters> Method(absl::string_view app,
                                               absl::string_view service,
                                               absl::string_view method,
                                               CallKind kind);

  const std::shared_ptr<ReplyCounters>& replies() const { return replies_; }

  // Methods with at least one call, ordered by app, service and method.
  ClientMetrics Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  absl::btree_map<std::tuple<std::string, std::string, std::string>,
                  std::shared_ptr<ClientMethodCounters>>
      methods_ ABSL_GUARDED_BY(mu_);
  const std::shared_ptr<ReplyCounters> replies_ =
      std::make_shared<ReplyCounters>();
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_CLIENT_METRICS_H_
