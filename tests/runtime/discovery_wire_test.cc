// Copyright 2026 The natsrpc Authors.
//
// The text of discovery and health (runtime/src/wire/discovery.h).

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "wire/discovery.h"

namespace natsrpc::wire {
namespace {

TEST(DiscoveryWireTest, ParsesTheThreeShapesOfEachVerb) {
  auto r = ParseDiscoverySubject("$SRV.PING");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verb, DiscoveryVerb::kPing);
  EXPECT_EQ(r->name, "");
  r = ParseDiscoverySubject("$SRV.INFO.example_v1-Calculator");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verb, DiscoveryVerb::kInfo);
  EXPECT_EQ(r->name, "example_v1-Calculator");
  EXPECT_EQ(r->id, "");
  r = ParseDiscoverySubject("$SRV.STATS.n.Xk3");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verb, DiscoveryVerb::kStats);
  EXPECT_EQ(r->id, "Xk3");
  EXPECT_TRUE(DiscoveryMatches(*r, "n", "Xk3"));
  EXPECT_FALSE(DiscoveryMatches(*r, "n", "other"));
  EXPECT_FALSE(DiscoveryMatches(*r, "m", "Xk3"));
}

TEST(DiscoveryWireTest, RefusesOtherSubjects) {
  for (const char* s : {"$SRV", "$SRV.SCHEMA", "$SRV.ping", "$SRV.PING.a.b.c",
                        "$SRV.PING..x", "SRV.PING", "$SRV.INFO."}) {
    EXPECT_FALSE(ParseDiscoverySubject(s).has_value()) << s;
  }
}

TEST(DiscoveryWireTest, SemVer) {
  for (const char* v : {"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha.1",
                        "1.0.0-0.3.7", "1.0.0+build.5", "1.0.0-rc.1+b-7"}) {
    EXPECT_TRUE(IsSemVer(v)) << v;
  }
  for (const char* v :
       {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+",
        "1.2.3-a..b", "v1.2.3", "1.2.3 "}) {
    EXPECT_FALSE(IsSemVer(v)) << v;
  }
}

TEST(DiscoveryWireTest, ResponsesAreExactJson) {
  MicroIdentity id{"a-S", "ID", "1.0.0", {{"k", "v\"\n"}}};
  EXPECT_EQ(EncodePingResponse(id),
            R"({"type":"io.nats.micro.v1.ping_response","name":"a-S",)"
            R"("id":"ID","version":"1.0.0","metadata":{"k":"v\"\n"}})");
  MicroEndpoint e;
  e.name = "M";
  e.subject = "requests.*.b.a.S.M";
  e.queue_group = "q";
  e.metadata = {{"natsrpc.kind", "unary"}};
  e.num_requests = 3;
  e.num_errors = 1;
  e.last_error = "INTERNAL: x\x01";
  e.processing_time_ns = 300;
  e.average_processing_time_ns = 100;
  EXPECT_EQ(
      EncodeInfoResponse(id, "d", {e}),
      R"({"type":"io.nats.micro.v1.info_response","name":"a-S","id":"ID",)"
      R"("version":"1.0.0","metadata":{"k":"v\"\n"},"description":"d",)"
      R"("endpoints":[{"name":"M","subject":"requests.*.b.a.S.M",)"
      R"("queue_group":"q","metadata":{"natsrpc.kind":"unary"}}]})");
  e.queue_group.clear();
  EXPECT_EQ(
      EncodeStatsResponse(id, absl::FromUnixMillis(1764594458123), {e}),
      R"({"type":"io.nats.micro.v1.stats_response","name":"a-S","id":"ID",)"
      R"("version":"1.0.0","metadata":{"k":"v\"\n"},)"
      R"("started":"2025-12-01T13:07:38.123Z","endpoints":[{"name":"M",)"
      R"("subject":"requests.*.b.a.S.M","num_requests":3,"num_errors":1,)"
      R"("last_error":"INTERNAL: x\u0001","processing_time":300,)"
      R"("average_processing_time":100}]})");
}

TEST(DiscoveryWireTest, HealthSubjectsAndAnswer) {
  EXPECT_EQ(HealthSubject("bob"), "natsrpc.health.bob");
  EXPECT_EQ(HealthServiceWildcard("bob"), "natsrpc.health.bob.>");
  EXPECT_FALSE(ParseHealthSubject("bob", "natsrpc.health.bob").has_value());
  auto t = ParseHealthSubject("bob", "natsrpc.health.bob.app.Svc");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->app, "app");
  EXPECT_EQ(t->service, "Svc");
  t = ParseHealthSubject("bob", "natsrpc.health.bob.app.Svc.extra");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->service, "");
  EXPECT_EQ(EncodeHealthResponse(ServingStatus::kNotServing, "bob", "ID",
                                 std::nullopt),
            R"({"status":"NOT_SERVING","responder":"bob","id":"ID"})");
  EXPECT_EQ(EncodeHealthResponse(ServingStatus::kServing, "bob", "ID",
                                 HealthTarget{"app", "Svc"}),
            R"({"status":"SERVING","responder":"bob","id":"ID",)"
            R"("app":"app","service":"Svc"})");
}

}  // namespace
}  // namespace natsrpc::wire
