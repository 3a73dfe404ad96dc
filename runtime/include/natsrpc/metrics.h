// Copyright 2026 The natsrpc Authors.
//
// Metrics of calls: the fixed latency buckets of every histogram, the
// client's per-method counters (Connection::client_stats()), and the
// Prometheus text exposition of them and of the server's
// (Server::method_stats()):
//
//   std::string text = natsrpc::PrometheusText(server.method_stats()) +
//                      natsrpc::PrometheusText(conn.client_stats());
//
// The counters are kept with relaxed atomics on the call path (no lock per
// call); a snapshot reads them one by one, so its numbers may disagree by
// the calls that end while it is taken.

#ifndef NATSRPC_METRICS_H_
#define NATSRPC_METRICS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "natsrpc/export.h"

namespace natsrpc {

struct MethodStats;  // natsrpc/server.h

// Upper bounds (inclusive, as Prometheus' `le`) of the latency histogram
// buckets, in increasing order: 0.5 ms to 10 s. A last bucket holds the
// latencies above 10 s (`le="+Inf"`).
inline constexpr std::array<absl::Duration, 14> kLatencyBucketBounds = {
    absl::Microseconds(500), absl::Milliseconds(1),   absl::Microseconds(2500),
    absl::Milliseconds(5),   absl::Milliseconds(10),  absl::Milliseconds(25),
    absl::Milliseconds(50),  absl::Milliseconds(100), absl::Milliseconds(250),
    absl::Milliseconds(500), absl::Seconds(1),        absl::Milliseconds(2500),
    absl::Seconds(5),        absl::Seconds(10),
};

// Calls per latency bucket (not cumulative): [i] counts the latencies in
// (kLatencyBucketBounds[i-1], kLatencyBucketBounds[i]]; the last entry
// those above 10 s.
using LatencyHistogram = std::array<uint64_t, kLatencyBucketBounds.size() + 1>;

// The bucket of `latency`:
//   LatencyBucket(absl::Microseconds(500)) -> 0
//   LatencyBucket(absl::Milliseconds(3))   -> 3
//   LatencyBucket(absl::Minutes(1))        -> 14
inline size_t LatencyBucket(absl::Duration latency) {
  size_t i = 0;
  while (i < kLatencyBucketBounds.size() && latency > kLatencyBucketBounds[i]) {
    ++i;
  }
  return i;
}

// The calls of one method made through the clients of one connection
// (all requesters).
struct ClientMethodStats {
  std::string app;
  std::string service;
  std::string method;
  // Unary calls and streams started (including those that failed before
  // anything was sent).
  uint64_t calls = 0;
  uint64_t finished = 0;  // ended; calls - finished are in flight
  uint64_t ok = 0;
  // Ended with a non-OK status, by code (DEADLINE_EXCEEDED for timeouts).
  std::map<absl::StatusCode, uint64_t> errors;
  // From the call's start to its end (unary: the reply, before decoding;
  // streams: the end a Read returns, or the failure).
  absl::Duration total_latency = absl::ZeroDuration();
  LatencyHistogram latency_histogram{};
  // A streaming method (client, server or bidi).
  bool streaming = false;
  // Streams: writes of this side that waited for the server's credit.
  uint64_t credit_stalls = 0;
  // Streaming methods: streams open now (calls - finished); 0 for unary.
  uint64_t streams_open = 0;
  // Unary calls: attempts after a call's first, by its RetryPolicy or
  // wait-for-ready (natsrpc/client.h); a call counts once in `calls`.
  uint64_t retries = 0;
};

// The client side of one connection.
struct ClientMetrics {
  // Every method called so far, ordered by app, service and method.
  std::vector<ClientMethodStats> methods;
  // Replies to unary calls that had already ended: late ones came after the
  // call's deadline had passed, duplicates after its reply (or its
  // cancellation, or another failure), unknown ones name no call this
  // connection made.
  uint64_t late_replies = 0;
  uint64_t duplicate_replies = 0;
  uint64_t unknown_replies = 0;
};

// Prometheus text exposition format 0.0.4 (`# HELP`, `# TYPE`, one sample a
// line, ending with a newline) of a server's per-method counters, with the
// labels app, service and method:
//
//   natsrpc_server_requests_total{app,service,method,code}  ended calls
//       by status code name ("OK", "INVALID_ARGUMENT", ...)
//   natsrpc_server_requests_started_total  calls started
//   natsrpc_server_requests_in_flight  started and not ended (gauge)
//   natsrpc_server_queued_requests  waiting for a worker (gauge)
//   natsrpc_server_resource_exhausted_total  refused RESOURCE_EXHAUSTED
//       before reaching a handler (queue full, stream limit)
//   natsrpc_server_handling_seconds  histogram of the latency
//       (_bucket{le}, _sum, _count)
//   natsrpc_server_streams_open  (gauge), natsrpc_server_stream_credit_
//       stalls_total: streaming methods only
//
// Families with no sample are left out; `methods` in the order given.
NATSRPC_EXPORT std::string PrometheusText(
    const std::vector<MethodStats>& methods);

// The same for a connection's clients: natsrpc_client_requests_total{app,
// service,method,code}, natsrpc_client_requests_started_total,
// natsrpc_client_requests_in_flight, natsrpc_client_latency_seconds
// (histogram), natsrpc_client_streams_open,
// natsrpc_client_stream_credit_stalls_total, and without labels
// natsrpc_client_late_replies_total, natsrpc_client_duplicate_replies_total,
// natsrpc_client_unknown_replies_total.
NATSRPC_EXPORT std::string PrometheusText(const ClientMetrics& client);

}  // namespace natsrpc

#endif  // NATSRPC_METRICS_H_
