// Copyright 2026 The natsrpc Authors.
//
// The per-method counters behind Server::method_stats(): a ServerInterceptor
// the server installs ahead of the user's (natsrpc/server.h), so that the
// interceptor chain carries a feature of the runtime itself. The server also
// counts, per method, what never reaches the chain: requests waiting for a
// worker and RESOURCE_EXHAUSTED refusals (Register() gives it the counters).
// Everything on the call path is a relaxed atomic.

#ifndef NATSRPC_SRC_SERVER_METHOD_STATS_H_
#define NATSRPC_SRC_SERVER_METHOD_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metrics.h"
#include "natsrpc/server.h"

namespace natsrpc::internal {

class MethodStatsInterceptor final : public ServerInterceptor {
 public:
  std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) override;

  // Every method that was called, queued or refused so far, ordered by app,
  // service and method.
  std::vector<MethodStats> Snapshot() const;

  struct Counters {
    std::string app, service, method;
    bool streaming = false;
    std::atomic<uint64_t> calls{0};
    // Ended calls by final status code (absl::StatusCode 0..16).
    std::array<std::atomic<uint64_t>, 17> by_code{};
    std::atomic<int64_t> total_nanos{0};
    // The latest error ("CODE: message"), for discovery's last_error.
    mutable absl::Mutex last_error_mu;
    std::string last_error ABSL_GUARDED_BY(last_error_mu);
    std::array<std::atomic<uint64_t>, kLatencyBucketBounds.size() + 1>
        latency_buckets{};
    // Unary requests waiting for a worker now.
    std::atomic<int64_t> queued{0};
    // Refused with RESOURCE_EXHAUSTED before the chain (queue full, stream
    // limit).
    std::atomic<uint64_t> resource_exhausted{0};
    // Stream writes that waited for credit; shared with the streams'
    // endpoints, which may outlive the server.
    std::shared_ptr<std::atomic<uint64_t>> credit_stalls =
        std::make_shared<std::atomic<uint64_t>>(0);
  };

  // The counters of a method, created on first use; valid as long as this
  // object. For the server's own counting outside the chain.
  Counters& Register(absl::string_view app, absl::string_view service,
                     absl::string_view method, CallKind kind);

  // What Intercept() returns for a call of the method whose counters are
  // `counters` (from Register()), without looking them up: the server's
  // unary path, which holds them in its RegisteredMethod.
  static std::unique_ptr<ServerCallInterceptor> Count(Counters& counters);

 private:
  // Points into the Counters it maps to.
  struct Key {
    absl::string_view app, service, method;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.app, k.service, k.method);
    }
  };

  Counters& Find(const CallInfo& call);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, std::unique_ptr<Counters>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_SERVER_METHOD_STATS_H_
