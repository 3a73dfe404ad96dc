// Copyright 2026 The natsrpc Authors.
//
// PrometheusText() (natsrpc/metrics.h): the exact text exposition of known
// server and client counters, label escaping, and the latency buckets.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "natsrpc/metrics.h"
#include "natsrpc/server.h"

namespace natsrpc {
namespace {

TEST(LatencyBucketTest, BoundsAreInclusive) {
  EXPECT_EQ(LatencyBucket(absl::ZeroDuration()), 0u);
  EXPECT_EQ(LatencyBucket(absl::Microseconds(500)), 0u);
  EXPECT_EQ(LatencyBucket(absl::Microseconds(501)), 1u);
  EXPECT_EQ(LatencyBucket(absl::Milliseconds(3)), 3u);
  EXPECT_EQ(LatencyBucket(absl::Seconds(10)), 13u);
  EXPECT_EQ(LatencyBucket(absl::Minutes(1)), 14u);
}

// Add: 3 OK, one in 0.5 ms, two in 20 ms, one still running; Divide: one
// INVALID_ARGUMENT in 2 s; Watch (server streaming): one stream open, two
// credit stalls; one request queued and one refused on Add.
std::vector<MethodStats> KnownServerStats() {
  MethodStats add;
  add.app = "example_v1";
  add.service = "Calculator";
  add.method = "Add";
  add.calls = 4;
  add.finished = 3;
  add.ok = 3;
  add.total_latency = absl::Microseconds(40500);
  add.latency_histogram[0] = 1;
  add.latency_histogram[5] = 2;
  add.in_flight = 1;
  add.queued = 1;
  add.resource_exhausted = 1;
  MethodStats divide;
  divide.app = "example_v1";
  divide.service = "Calculator";
  divide.method = "Divide";
  divide.calls = 1;
  divide.finished = 1;
  divide.errors[absl::StatusCode::kInvalidArgument] = 1;
  divide.total_latency = absl::Seconds(2);
  divide.latency_histogram[11] = 1;
  MethodStats watch;
  watch.app = "a\"b\\c";
  watch.service = "Clock";
  watch.method = "Watch";
  watch.calls = 1;
  watch.in_flight = 1;
  watch.streaming = true;
  watch.streams_open = 1;
  watch.credit_stalls = 2;
  return {add, divide, watch};
}

TEST(PrometheusTextTest, ServerCountersExactly) {
  const std::string add =
      R"(app="example_v1",service="Calculator",method="Add")";
  const std::string div =
      R"(app="example_v1",service="Calculator",method="Divide")";
  const std::string watch = R"(app="a\"b\\c",service="Clock",method="Watch")";
  std::string buckets;
  auto histogram = [&](const std::string& labels,
                       const std::vector<uint64_t>& cumulative,
                       const std::string& sum) {
    const char* le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                        "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                        "1",      "2.5",   "5",      "10",    "+Inf"};
    for (size_t i = 0; i < 15; ++i) {
      buckets += "natsrpc_server_handling_seconds_bucket{" + labels + ",le=\"" +
                 le[i] + "\"} " + std::to_string(cumulative[i]) + "\n";
    }
    buckets += "natsrpc_server_handling_seconds_sum{" + labels + "} " + sum +
               "\nnatsrpc_server_handling_seconds_count{" + labels + "} " +
               std::to_string(cumulative[14]) + "\n";
  };
  histogram(add, {1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, "0.0405");
  histogram(div, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, "2");
  histogram(watch, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "0");

  const std::string expected =
      "# HELP natsrpc_server_requests_total Calls ended on this server, by "
      "status code.\n"
      "# TYPE natsrpc_server_requests_total counter\n"
      "natsrpc_server_requests_total{" +
      add +
      ",code=\"OK\"} 3\n"
      "natsrpc_server_requests_total{" +
      div +
      ",code=\"INVALID_ARGUMENT\"} 1\n"
      "# HELP natsrpc_server_requests_started_total Calls started on this "
      "server (handler about to run, or stream accepted).\n"
      "# TYPE natsrpc_server_requests_started_total counter\n"
      "natsrpc_server_requests_started_total{" +
      add +
      "} 4\n"
      "natsrpc_server_requests_started_total{" +
      div +
      "} 1\n"
      "natsrpc_server_requests_started_total{" +
      watch +
      "} 1\n"
      "# HELP natsrpc_server_requests_in_flight Calls started and not "
      "ended.\n"
      "# TYPE natsrpc_server_requests_in_flight gauge\n"
      "natsrpc_server_requests_in_flight{" +
      add +
      "} 1\n"
      "natsrpc_server_requests_in_flight{" +
      div +
      "} 0\n"
      "natsrpc_server_requests_in_flight{" +
      watch +
      "} 1\n"
      "# HELP natsrpc_server_queued_requests Requests waiting for a "
      "worker.\n"
      "# TYPE natsrpc_server_queued_requests gauge\n"
      "natsrpc_server_queued_requests{" +
      add +
      "} 1\n"
      "natsrpc_server_queued_requests{" +
      div +
      "} 0\n"
      "natsrpc_server_queued_requests{" +
      watch +
      "} 0\n"
      "# HELP natsrpc_server_resource_exhausted_total Requests refused with "
      "RESOURCE_EXHAUSTED before a handler (queue full, stream limit).\n"
      "# TYPE natsrpc_server_resource_exhausted_total counter\n"
      "natsrpc_server_resource_exhausted_total{" +
      add +
      "} 1\n"
      "natsrpc_server_resource_exhausted_total{" +
      div +
      "} 0\n"
      "natsrpc_server_resource_exhausted_total{" +
      watch +
      "} 0\n"
      "# HELP natsrpc_server_handling_seconds Time from a call's start on "
      "this server to its end.\n"
      "# TYPE natsrpc_server_handling_seconds histogram\n" +
      buckets +
      "# HELP natsrpc_server_streams_open Streams open now.\n"
      "# TYPE natsrpc_server_streams_open gauge\n"
      "natsrpc_server_streams_open{" +
      watch +
      "} 1\n"
      "# HELP natsrpc_server_stream_credit_stalls_total Stream writes that "
      "waited for the client's credit.\n"
      "# TYPE natsrpc_server_stream_credit_stalls_total counter\n"
      "natsrpc_server_stream_credit_stalls_total{" +
      watch + "} 2\n";
  EXPECT_EQ(PrometheusText(KnownServerStats()), expected);
}

TEST(PrometheusTextTest, NoMethodsGivesNoFamilies) {
  EXPECT_EQ(PrometheusText(std::vector<MethodStats>()), "");
}

TEST(PrometheusTextTest, ClientCountersExactly) {
  ClientMetrics client;
  ClientMethodStats add;
  add.app = "example_v1";
  add.service = "Calculator";
  add.method = "Add";
  add.calls = 2;
  add.finished = 2;
  add.ok = 1;
  add.errors[absl::StatusCode::kDeadlineExceeded] = 1;
  add.total_latency = absl::Milliseconds(1500);
  add.latency_histogram[1] = 1;
  add.latency_histogram[11] = 1;
  client.methods.push_back(add);
  client.late_replies = 1;
  client.duplicate_replies = 2;
  client.unknown_replies = 3;
  const std::string l = R"(app="example_v1",service="Calculator",method="Add")";
  std::string expected =
      "# HELP natsrpc_client_requests_total Calls ended on this client, by "
      "status code.\n"
      "# TYPE natsrpc_client_requests_total counter\n"
      "natsrpc_client_requests_total{" +
      l +
      ",code=\"OK\"} 1\n"
      "natsrpc_client_requests_total{" +
      l +
      ",code=\"DEADLINE_EXCEEDED\"} 1\n"
      "# HELP natsrpc_client_requests_started_total Calls started on this "
      "client.\n"
      "# TYPE natsrpc_client_requests_started_total counter\n"
      "natsrpc_client_requests_started_total{" +
      l +
      "} 2\n"
      "# HELP natsrpc_client_requests_in_flight Calls started and not "
      "ended.\n"
      "# TYPE natsrpc_client_requests_in_flight gauge\n"
      "natsrpc_client_requests_in_flight{" +
      l +
      "} 0\n"
      "# HELP natsrpc_client_latency_seconds Time from a call's start on "
      "this client to its end.\n"
      "# TYPE natsrpc_client_latency_seconds histogram\n";
  const char* le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                      "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                      "1",      "2.5",   "5",      "10",    "+Inf"};
  const int cumulative[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
  for (int i = 0; i < 15; ++i) {
    expected += "natsrpc_client_latency_seconds_bucket{" + l + ",le=\"" +
                le[i] + "\"} " + std::to_string(cumulative[i]) + "\n";
  }
  expected +=
      "natsrpc_client_latency_seconds_sum{" + l +
      "} 1.5\n"
      "natsrpc_client_latency_seconds_count{" +
      l +
      "} 2\n"
      "# HELP natsrpc_client_late_replies_total Replies that came after "
      "their call's deadline.\n"
      "# TYPE natsrpc_client_late_replies_total counter\n"
      "natsrpc_client_late_replies_total 1\n"
      "# HELP natsrpc_client_duplicate_replies_total Replies to calls that "
      "had already ended otherwise.\n"
      "# TYPE natsrpc_client_duplicate_replies_total counter\n"
      "natsrpc_client_duplicate_replies_total 2\n"
      "# HELP natsrpc_client_unknown_replies_total Replies naming no call of "
      "this connection.\n"
      "# TYPE natsrpc_client_unknown_replies_total counter\n"
      "natsrpc_client_unknown_replies_total 3\n";
  EXPECT_EQ(PrometheusText(client), expected);
}

}  // namespace
}  // namespace natsrpc
