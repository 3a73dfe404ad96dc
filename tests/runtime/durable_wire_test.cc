// Copyright 2026 The natsrpc Authors.
//
// The names and the stored-result format of durable requests
// (runtime/src/wire/durable.h, docs/protocol.md section 14), and the
// durable classes over a transport without JetStream.

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/durable.h"
#include "natsrpc/durable_metrics.h"
#include "wire/durable.h"

namespace natsrpc::wire {
namespace {

TEST(DurableWireTest, Names) {
  EXPECT_EQ(DurableSubject("alice", "bob", "calc", "Calculator", "Add"),
            "durable.alice.bob.calc.Calculator.Add");
  EXPECT_EQ(DeadLetterSubject("alice", "bob", "calc", "Calculator", "Add"),
            "durable_dead.alice.bob.calc.Calculator.Add");
  EXPECT_EQ(DurableStreamName("bob"), "NATSRPC_DURABLE_bob");
  EXPECT_EQ(DurableStreamSubjects("bob"), "durable.*.bob.>");
  EXPECT_EQ(DeadLetterStreamName("bob"), "NATSRPC_DEAD_bob");
  EXPECT_EQ(DeadLetterStreamSubjects("bob"), "durable_dead.*.bob.>");
  EXPECT_EQ(ResultBucketName("bob"), "natsrpc_results_bob");
  EXPECT_EQ(ResultKey("alice", "job-1"), "alice.job-1");
  EXPECT_EQ(DurableConsumerFilter("bob", "calc", "Calculator"),
            "durable.*.bob.calc.Calculator.*");
  // The app's length keeps the two apart.
  EXPECT_EQ(DurableConsumerName("a_b", "c"), "natsrpc_3_a_b_c");
  EXPECT_EQ(DurableConsumerName("a", "b_c"), "natsrpc_1_a_b_c");
}

TEST(DurableWireTest, ParseSubject) {
  auto p = ParseDurableSubject("durable.alice.bob.calc.Calculator.Add");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->requester, "alice");
  EXPECT_EQ(p->responder, "bob");
  EXPECT_EQ(p->app, "calc");
  EXPECT_EQ(p->service, "Calculator");
  EXPECT_EQ(p->method, "Add");
  for (const char* bad :
       {"durable.a.b.c.d", "requests.a.b.c.d.e", "durable.a.b.c.d.e.f",
        "durable.a..c.d.e", "durable.a.b.c.d.e f", ""}) {
    EXPECT_EQ(ParseDurableSubject(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(DurableWireTest, ResultRoundTrips) {
  const std::string ok = EncodeDurableResult(
      absl::OkStatus(), "application/x-protobuf", std::string("\0\1reply", 7));
  EXPECT_EQ(ok.substr(0, ok.find('\n')), "0 22 0");
  auto r = DecodeDurableResult(ok);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->content_type, "application/x-protobuf");
  EXPECT_EQ(r->payload, std::string("\0\1reply", 7));

  const std::string err =
      EncodeDurableResult(absl::UnavailableError("line one\nline two"), "", "");
  auto e = DecodeDurableResult(err);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->status, absl::UnavailableError("line one\nline two"));
  EXPECT_EQ(DurableErrorText(e->status), "UNAVAILABLE: line one\nline two");
}

TEST(DurableWireTest, MalformedResultIsInternal) {
  for (const char* bad :
       {"", "0 1 1", "0 5 0\nab", "x 0 0\n", "17 0 0\n", "0 0\n", "-1 0 0\n"}) {
    auto r = DecodeDurableResult(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << bad;
  }
}

TEST(DurableMetricsTest, PrometheusText) {
  DurableStats st;
  st.delivered = 12;
  st.redelivered = 3;
  const std::string text = PrometheusText(st, "worker");
  EXPECT_NE(
      text.find("# TYPE natsrpc_durable_redeliveries_total counter\n"
                "natsrpc_durable_redeliveries_total{responder=\"worker\"} "
                "3\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("natsrpc_durable_deliveries_total{responder=\"worker\"} 12\n"),
      std::string::npos)
      << text;
}

TEST(DurableNoJetStreamTest, TransportWithoutJetStreamIsUnimplemented) {
  auto transport = std::make_shared<testing::InMemoryTransport>();
  Connection conn(transport);
  DurableClient client(conn, ClientOptions{.requester = "a", .responder = "b"},
                       "Svc", "app");
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(client.Submit("M", "", "").status().code(),
            absl::StatusCode::kUnimplemented);
  DurableClient bad(conn, ClientOptions{.requester = "a.b", .responder = "b"},
                    "Svc", "app");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace natsrpc::wire
