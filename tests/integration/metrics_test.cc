// Copyright 2026 The natsrpc Authors.
//
// Metrics (natsrpc/metrics.h) against a real nats-server: the server's
// per-method counts by status code, latency histogram, in-flight calls,
// queue depth and RESOURCE_EXHAUSTED refusals (Server::method_stats()); the
// client's calls, latency and late and duplicate replies
// (Connection::client_stats()); open streams and credit stalls on both
// sides; and the Prometheus text of a known set of calls.

#include <atomic>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "example/v1/calculator.natsrpc.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace tv1 = ::natsrpc::testing::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

// Waits until `pred` holds (state another thread changes without telling).
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time end = absl::Now() + kWait;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

class CalculatorImpl final : public example::v1::Calculator::Service {
 public:
  absl::Status Add(ServerContext&, const example::v1::AddRequest& req,
                   example::v1::AddReply& reply) override {
    reply.set_sum(req.a() + req.b());
    return absl::OkStatus();
  }
  absl::Status Divide(ServerContext&, const example::v1::DivideRequest& req,
                      example::v1::DivideReply& reply) override {
    if (req.divisor() == 0) {
      return absl::InvalidArgumentError("division by zero");
    }
    reply.set_quotient(req.dividend() / req.divisor());
    return absl::OkStatus();
  }
};

// Sleep blocks until released.
class TestServiceImpl final : public tv1::TestService::Service {
 public:
  absl::Status Sleep(ServerContext&, const tv1::SleepRequest& req,
                     tv1::EchoReply&) override {
    sleeping.fetch_add(1);
    release.WaitForNotificationWithTimeout(absl::Milliseconds(req.millis()));
    return absl::OkStatus();
  }
  absl::Status Echo(ServerContext&, const tv1::EchoRequest& req,
                    tv1::EchoReply& reply) override {
    reply.set_payload(req.payload());
    return absl::OkStatus();
  }
  std::atomic<int> sleeping{0};
  absl::Notification release;
};

// Count writes `count` items; Sum waits for `release` before reading.
class StreamServiceImpl final : public tv1::StreamService::Service {
 public:
  absl::Status Count(ServerContext&, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    for (int64_t i = 1; i <= req.count(); ++i) {
      tv1::Item item;
      item.set_seq(i);
      if (!writer.Write(item)) return absl::CancelledError("stream over");
    }
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext&,
                   ServerReader<tv1::Item, ProtobufCodec>& reader,
                   tv1::Summary& summary) override {
    release.WaitForNotificationWithTimeout(kWait);
    tv1::Item item;
    while (reader.Read(&item)) summary.set_count(summary.count() + 1);
    return absl::OkStatus();
  }
  absl::Notification release;
};

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    conn_ = Connect();
    server_conn_ = Connect();
  }
  static std::unique_ptr<Connection> Connect() {
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::make_unique<Connection>(*c) : nullptr;
  }

  // Copies: the argument is often a temporary snapshot.
  static std::optional<MethodStats> Find(const std::vector<MethodStats>& all,
                                         absl::string_view method) {
    for (const MethodStats& m : all) {
      if (m.method == method) return m;
    }
    return std::nullopt;
  }
  static std::optional<ClientMethodStats> Find(const ClientMetrics& all,
                                               absl::string_view method) {
    for (const ClientMethodStats& m : all.methods) {
      if (m.method == method) return m;
    }
    return std::nullopt;
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<Connection> server_conn_;
};

testing::NatsServer* MetricsTest::nats_ = nullptr;

uint64_t Sum(const LatencyHistogram& h) {
  return std::accumulate(h.begin(), h.end(), uint64_t{0});
}

TEST_F(MetricsTest, KnownCallsGiveCountsHistogramsAndPrometheusLines) {
  CalculatorImpl impl;
  Server server(*server_conn_, {.responder = "bob"});
  ASSERT_TRUE(server.AddService(impl).ok());
  example::v1::Calculator::Client calc(
      *conn_, {.requester = "alice", .responder = "bob"});
  example::v1::AddRequest add;
  add.set_a(2);
  add.set_b(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(calc.Add(add).ok());
  example::v1::DivideRequest div;
  div.set_dividend(1);
  EXPECT_EQ(calc.Divide(div).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The server counts a call when its reply is sent: all are in by now.
  const std::vector<MethodStats> stats = server.method_stats();
  ASSERT_EQ(stats.size(), 2u);
  const MethodStats& a = stats[0];
  EXPECT_EQ(a.method, "Add");
  EXPECT_EQ(a.calls, 3u);
  EXPECT_EQ(a.ok, 3u);
  EXPECT_EQ(a.in_flight, 0u);
  EXPECT_EQ(a.queued, 0u);
  EXPECT_EQ(a.resource_exhausted, 0u);
  EXPECT_FALSE(a.streaming);
  EXPECT_EQ(Sum(a.latency_histogram), 3u);
  const MethodStats& d = stats[1];
  EXPECT_EQ(d.method, "Divide");
  EXPECT_EQ(d.errors.at(absl::StatusCode::kInvalidArgument), 1u);
  EXPECT_EQ(Sum(d.latency_histogram), 1u);

  const ClientMetrics client = conn_->client_stats();
  ASSERT_EQ(client.methods.size(), 2u);
  EXPECT_EQ(client.methods[0].method, "Add");
  EXPECT_EQ(client.methods[0].calls, 3u);
  EXPECT_EQ(client.methods[0].ok, 3u);
  EXPECT_EQ(Sum(client.methods[0].latency_histogram), 3u);
  EXPECT_GE(client.methods[0].total_latency, a.total_latency);
  EXPECT_EQ(client.methods[1].errors.at(absl::StatusCode::kInvalidArgument),
            1u);
  EXPECT_EQ(
      client.late_replies + client.duplicate_replies + client.unknown_replies,
      0u);

  const std::string text = PrometheusText(stats);
  const std::string add_labels =
      R"(app="example_v1",service="Calculator",method="Add")";
  for (const std::string& line : {
           "natsrpc_server_requests_total{" + add_labels + ",code=\"OK\"} 3\n",
           std::string("natsrpc_server_requests_total{app=\"example_v1\","
                       "service=\"Calculator\",method=\"Divide\",code="
                       "\"INVALID_ARGUMENT\"} 1\n"),
           "natsrpc_server_handling_seconds_bucket{" + add_labels +
               ",le=\"+Inf\"} 3\n",
           "natsrpc_server_handling_seconds_count{" + add_labels + "} 3\n",
           "natsrpc_server_requests_in_flight{" + add_labels + "} 0\n",
       }) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << "in\n" << text;
  }
  const std::string client_text = PrometheusText(client);
  EXPECT_TRUE(absl::StrContains(
      client_text,
      "natsrpc_client_requests_total{" + add_labels + ",code=\"OK\"} 3\n"))
      << client_text;
}

TEST_F(MetricsTest, QueueDepthInFlightAndResourceExhausted) {
  TestServiceImpl impl;
  // One worker, one queue slot, no inline runs: the second call queues, the
  // third is refused.
  Server server(*server_conn_, {.responder = "bob",
                                .num_workers = 1,
                                .max_queued_requests = 1,
                                .run_fast_handlers_inline = false});
  ASSERT_TRUE(server.AddService(impl).ok());
  tv1::TestService::Client client(*conn_,
                                  {.requester = "alice", .responder = "bob"});
  tv1::SleepRequest req;
  req.set_millis(absl::ToInt64Milliseconds(kWait));
  std::atomic<int> done{0};
  std::vector<absl::Status> results(3);
  client.SleepAsync(req, [&](absl::StatusOr<tv1::EchoReply> r) {
    results[0] = r.status();
    done.fetch_add(1);
  });
  ASSERT_TRUE(Eventually([&] { return impl.sleeping.load() == 1; }));
  client.SleepAsync(req, [&](absl::StatusOr<tv1::EchoReply> r) {
    results[1] = r.status();
    done.fetch_add(1);
  });
  ASSERT_TRUE(Eventually([&] {
    std::optional<MethodStats> s = Find(server.method_stats(), "Sleep");
    return s.has_value() && s->queued == 1;
  })) << "the second call never showed as queued";
  client.SleepAsync(req, [&](absl::StatusOr<tv1::EchoReply> r) {
    results[2] = r.status();
    done.fetch_add(1);
  });
  ASSERT_TRUE(Eventually([&] { return done.load() == 1; }));
  EXPECT_EQ(results[2].code(), absl::StatusCode::kResourceExhausted);
  std::vector<MethodStats> stats = server.method_stats();
  std::optional<MethodStats> s = Find(stats, "Sleep");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->calls, 1u);
  EXPECT_EQ(s->in_flight, 1u);
  EXPECT_EQ(s->queued, 1u);
  EXPECT_EQ(s->resource_exhausted, 1u);
  EXPECT_TRUE(absl::StrContains(
      PrometheusText(stats),
      "natsrpc_server_resource_exhausted_total{app=\"natsrpc_testing_v1\","
      "service=\"TestService\",method=\"Sleep\"} 1\n"));
  std::optional<ClientMethodStats> c = Find(conn_->client_stats(), "Sleep");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->calls, 3u);
  EXPECT_EQ(c->finished, 1u);
  EXPECT_EQ(c->errors.at(absl::StatusCode::kResourceExhausted), 1u);

  impl.release.Notify();
  ASSERT_TRUE(Eventually([&] { return done.load() == 3; }));
  stats = server.method_stats();
  s = Find(stats, "Sleep");
  EXPECT_EQ(s->calls, 2u);
  EXPECT_EQ(s->ok, 2u);
  EXPECT_EQ(s->in_flight, 0u);
  EXPECT_EQ(s->queued, 0u);
}

TEST_F(MetricsTest, LateReplyIsCountedOnTheClient) {
  TestServiceImpl impl;
  Server server(*server_conn_, {.responder = "bob"});
  ASSERT_TRUE(server.AddService(impl).ok());
  tv1::TestService::Client client(*conn_,
                                  {.requester = "alice", .responder = "bob"});
  tv1::SleepRequest req;
  req.set_millis(absl::ToInt64Milliseconds(kWait));
  absl::Notification ended;
  absl::Status status;
  client.SleepAsync(req,
                    [&](absl::StatusOr<tv1::EchoReply> r) {
                      status = r.status();
                      ended.Notify();
                    },
                    {.timeout = absl::Milliseconds(50)});
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  // The handler still runs and answers after the client gave up.
  impl.release.Notify();
  ASSERT_TRUE(Eventually([&] {
    return conn_->client_stats().late_replies == 1;
  })) << "late replies: "
      << conn_->client_stats().late_replies;
  const ClientMetrics m = conn_->client_stats();
  EXPECT_EQ(m.duplicate_replies, 0u);
  EXPECT_EQ(Find(m, "Sleep")->errors.at(absl::StatusCode::kDeadlineExceeded),
            1u);
}

TEST_F(MetricsTest, DuplicateReplyIsCountedOnTheClient) {
  // Broadcast: both instances answer; the client keeps the first.
  TestServiceImpl a, b;
  std::unique_ptr<Connection> other = Connect();
  Server s1(*server_conn_, {.responder = "bob", .broadcast = true});
  Server s2(*other, {.responder = "bob", .broadcast = true});
  ASSERT_TRUE(s1.AddService(a).ok());
  ASSERT_TRUE(s2.AddService(b).ok());
  tv1::TestService::Client client(*conn_,
                                  {.requester = "alice", .responder = "bob"});
  ASSERT_TRUE(client.Echo(tv1::EchoRequest()).ok());
  ASSERT_TRUE(Eventually([&] {
    return conn_->client_stats().duplicate_replies == 1;
  })) << "duplicate replies: "
      << conn_->client_stats().duplicate_replies;
  EXPECT_EQ(conn_->client_stats().late_replies, 0u);
}

TEST_F(MetricsTest, OpenStreamsAndCreditStallsOnBothSides) {
  StreamServiceImpl impl;
  Server server(*server_conn_, {.responder = "bob", .stream_window = 1});
  ASSERT_TRUE(server.AddService(impl).ok());
  tv1::StreamService::Client client(
      *conn_, {.requester = "alice", .responder = "bob", .stream_window = 2});

  // Server side: 10 items to a reader that reads nothing yet; with a window
  // of 2 the server's writer must wait.
  tv1::CountRequest req;
  req.set_count(10);
  auto reader = client.Count(req);
  ASSERT_TRUE(Eventually([&] {
    std::optional<MethodStats> s = Find(server.method_stats(), "Count");
    return s.has_value() && s->credit_stalls >= 1;
  })) << "the server's writer never waited for credit";
  std::optional<MethodStats> s = Find(server.method_stats(), "Count");
  EXPECT_TRUE(s->streaming);
  EXPECT_EQ(s->streams_open, 1u);
  std::optional<ClientMethodStats> c = Find(conn_->client_stats(), "Count");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->streams_open, 1u);
  tv1::Item item;
  int n = 0;
  while (reader->Read(&item)) ++n;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 10);
  EXPECT_TRUE(Eventually([&] {
    std::optional<MethodStats> m = Find(server.method_stats(), "Count");
    return m.has_value() && m->streams_open == 0 && m->ok == 1;
  }));
  EXPECT_EQ(Find(conn_->client_stats(), "Count")->streams_open, 0u);

  // Client side: the server (window 1) reads nothing until released.
  auto writer = client.Sum();
  std::thread writes([&] {
    tv1::Item one;
    for (int i = 0; i < 3; ++i) {
      if (!writer->Write(one)) break;
    }
    writer->WritesDone();
  });
  const bool stalled = Eventually([&] {
    std::optional<ClientMethodStats> m = Find(conn_->client_stats(), "Sum");
    return m.has_value() && m->credit_stalls >= 1;
  });
  impl.release.Notify();
  writes.join();
  EXPECT_TRUE(stalled) << "the client's writer never waited for credit";
  absl::StatusOr<tv1::Summary> summary = writer->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->count(), 3);
  EXPECT_TRUE(absl::StrContains(
      PrometheusText(conn_->client_stats()),
      "natsrpc_client_stream_credit_stalls_total{app=\"natsrpc_testing_v1\","
      "service=\"StreamService\",method=\"Sum\"} "));
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
