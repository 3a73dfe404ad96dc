// Copyright 2026 The natsrpc Authors.
//
// Discovery (ADR-32 `$SRV.PING|INFO|STATS`) and the health check
// (docs/protocol.md section 11) over a real nats-server, asked with plain
// NATS requests; the grants of section 2 with and without discovery.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "example/v1/calculator.natsrpc.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

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

// A plain NATS request: publishes on `subject` with a fresh inbox as reply-to
// and returns the first `n` replies, or fewer after `wait`.
std::vector<std::string> Ask(Connection& conn, const std::string& subject,
                             size_t n = 1,
                             absl::Duration wait = absl::Seconds(5)) {
  static int counter = 0;
  const std::string inbox = absl::StrCat("_INBOX.discovery_test.", ++counter);
  absl::Mutex mu;
  std::vector<std::string> replies;
  auto sub = conn.transport().Subscribe(inbox, "", [&](MessagePtr m) {
    absl::MutexLock lock(&mu);
    replies.emplace_back(m->data());
  });
  EXPECT_TRUE(sub.ok()) << sub.status();
  if (!sub.ok()) return {};
  EXPECT_TRUE(conn.transport()
                  .Publish({subject, inbox, {}, nullptr, "", FlushPolicy::kNow})
                  .ok());
  auto enough = [&] {
    mu.AssertReaderHeld();
    return replies.size() >= n;
  };
  absl::MutexLock lock(&mu);
  mu.AwaitWithTimeout(absl::Condition(&enough), wait);
  return replies;
}

Struct Parse(const std::string& json) {
  Struct s;
  const auto st = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return s;
}

std::string Str(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "<missing>" : it->second.string_value();
}

double Num(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

const Struct& Sub(const Struct& s, const std::string& key) {
  return s.fields().at(key).struct_value();
}

const Struct& Endpoint(const Struct& s, const std::string& name) {
  for (const Value& v : s.fields().at("endpoints").list_value().values()) {
    if (Str(v.struct_value(), "name") == name) return v.struct_value();
  }
  ADD_FAILURE() << "no endpoint " << name;
  static const Struct empty;
  return empty;
}

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = *std::move(s);
    auto c = testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::make_unique<Connection>(*c);
  }

  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(DiscoveryTest, PlainInfoRequestListsTheCalculatorsMethods) {
  CalculatorImpl impl;
  Server server(*conn_, ServerOptions{.responder = "bob", .version = "1.2.3"});
  ASSERT_TRUE(server.AddService(impl).ok());
  ASSERT_TRUE(server.discovery_status().ok()) << server.discovery_status();
  ASSERT_EQ(server.instance_id().size(), 22u);

  std::vector<std::string> replies = Ask(*conn_, "$SRV.INFO");
  ASSERT_EQ(replies.size(), 1u);
  const Struct info = Parse(replies[0]);
  EXPECT_EQ(Str(info, "type"), "io.nats.micro.v1.info_response");
  EXPECT_EQ(Str(info, "name"), "example_v1-Calculator");
  EXPECT_EQ(Str(info, "id"), server.instance_id());
  EXPECT_EQ(Str(info, "version"), "1.2.3");
  EXPECT_EQ(Str(info, "description"), "Integer arithmetic over NATS.");
  const Struct& meta = Sub(info, "metadata");
  EXPECT_EQ(Str(meta, "natsrpc.app"), "example_v1");
  EXPECT_EQ(Str(meta, "natsrpc.responder"), "bob");
  EXPECT_EQ(Str(meta, "natsrpc.service"), "example.v1.Calculator");
  EXPECT_EQ(Str(meta, "natsrpc.protocol_revision"),
            absl::StrCat(NATSRPC_PROTOCOL_REVISION));
  EXPECT_EQ(Str(meta, "natsrpc.health_subject"),
            "natsrpc.health.bob.example_v1.Calculator");
  ASSERT_EQ(info.fields().at("endpoints").list_value().values_size(), 3);
  const Struct& add = Endpoint(info, "Add");
  EXPECT_EQ(Str(add, "subject"), "requests.*.bob.example_v1.Calculator.Add");
  EXPECT_EQ(Str(add, "queue_group"), "natsrpc.bob.example_v1");
  EXPECT_EQ(Str(Sub(add, "metadata"), "natsrpc.kind"), "unary");
  EXPECT_EQ(Str(Sub(add, "metadata"), "natsrpc.request_type"),
            "example.v1.AddRequest");
  EXPECT_EQ(Str(Sub(add, "metadata"), "natsrpc.response_type"),
            "example.v1.AddReply");
  Endpoint(info, "Divide");
  Endpoint(info, "Echo");

  // By name and by name and id; PING has the standard fields only.
  replies = Ask(*conn_, absl::StrCat("$SRV.PING.example_v1-Calculator.",
                                     server.instance_id()));
  ASSERT_EQ(replies.size(), 1u);
  const Struct ping = Parse(replies[0]);
  EXPECT_EQ(Str(ping, "type"), "io.nats.micro.v1.ping_response");
  EXPECT_EQ(Str(ping, "id"), server.instance_id());
  EXPECT_FALSE(ping.fields().contains("endpoints"));
}

TEST_F(DiscoveryTest, StatsCountCallsAndErrorsPerEndpoint) {
  CalculatorImpl impl;
  Server server(*conn_, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(impl).ok());
  example::v1::Calculator::Client client(
      *conn_, ClientOptions{.requester = "alice", .responder = "bob"});
  example::v1::AddRequest add;
  add.set_a(2);
  add.set_b(3);
  ASSERT_TRUE(client.Add(add).ok());
  ASSERT_TRUE(client.Add(add).ok());
  example::v1::DivideRequest div;
  div.set_dividend(7);
  div.set_divisor(2);
  ASSERT_TRUE(client.Divide(div).ok());
  div.set_divisor(0);
  ASSERT_EQ(client.Divide(div).status().code(),
            absl::StatusCode::kInvalidArgument);

  std::vector<std::string> replies =
      Ask(*conn_, "$SRV.STATS.example_v1-Calculator");
  ASSERT_EQ(replies.size(), 1u);
  const Struct stats = Parse(replies[0]);
  EXPECT_EQ(Str(stats, "type"), "io.nats.micro.v1.stats_response");
  EXPECT_EQ(Str(stats, "version"), "0.0.0");
  absl::Time started;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, Str(stats, "started"),
                              &started, &err))
      << err << ": " << Str(stats, "started");
  EXPECT_LT(absl::AbsDuration(absl::Now() - started), absl::Minutes(1));
  const Struct& a = Endpoint(stats, "Add");
  EXPECT_EQ(Num(a, "num_requests"), 2);
  EXPECT_EQ(Num(a, "num_errors"), 0);
  EXPECT_FALSE(a.fields().contains("last_error"));
  EXPECT_GT(Num(a, "processing_time"), 0);
  EXPECT_EQ(Num(a, "average_processing_time"),
            static_cast<int64_t>(Num(a, "processing_time")) / 2);
  const Struct& d = Endpoint(stats, "Divide");
  EXPECT_EQ(Num(d, "num_requests"), 2);
  EXPECT_EQ(Num(d, "num_errors"), 1);
  EXPECT_EQ(Str(d, "last_error"), "INVALID_ARGUMENT: division by zero");
  const Struct& e = Endpoint(stats, "Echo");
  EXPECT_EQ(Num(e, "num_requests"), 0);
  EXPECT_EQ(Num(e, "processing_time"), 0);
}

TEST_F(DiscoveryTest, HealthTurnsNotServingOnDrain) {
  CalculatorImpl impl;
  Server server(*conn_, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server.AddService(impl).ok());
  const std::string service = "natsrpc.health.bob.example_v1.Calculator";
  auto status = [&](const std::string& subject) {
    std::vector<std::string> r = Ask(*conn_, subject);
    return r.size() == 1 ? Str(Parse(r[0]), "status") : "<no answer>";
  };
  EXPECT_EQ(status("natsrpc.health.bob"), "SERVING");
  EXPECT_EQ(status(service), "SERVING");
  EXPECT_EQ(status("natsrpc.health.bob.example_v1.Nope"), "SERVICE_UNKNOWN");
  std::vector<std::string> r = Ask(*conn_, service);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Str(Parse(r[0]), "id"), server.instance_id());
  EXPECT_EQ(Str(Parse(r[0]), "service"), "Calculator");
  EXPECT_TRUE(server.health().ok());

  server.Drain();
  EXPECT_EQ(status("natsrpc.health.bob"), "NOT_SERVING");
  EXPECT_EQ(status(service), "NOT_SERVING");
  EXPECT_EQ(server.health().code(), absl::StatusCode::kUnavailable);
  CalculatorImpl late;
  EXPECT_EQ(server.AddService(late).code(),
            absl::StatusCode::kFailedPrecondition);
  // Discovery still answers; calls go to other instances (none here).
  EXPECT_EQ(Ask(*conn_, "$SRV.PING").size(), 1u);
  example::v1::Calculator::Client client(
      *conn_, ClientOptions{.requester = "alice", .responder = "bob"});
  EXPECT_EQ(client.Add(example::v1::AddRequest()).status().code(),
            absl::StatusCode::kUnavailable);

  server.Shutdown();
  EXPECT_EQ(server.health().code(), absl::StatusCode::kUnavailable);
}

TEST_F(DiscoveryTest, DiscoveryOffAnswersNothing) {
  CalculatorImpl impl;
  Server server(*conn_, ServerOptions{.responder = "bob", .discovery = false});
  ASSERT_TRUE(server.AddService(impl).ok());
  // A second server that does answer bounds the wait: its reply comes, the
  // first one's never does.
  CalculatorImpl other_impl;
  Server other(*conn_, ServerOptions{.responder = "carol"});
  ASSERT_TRUE(other.AddService(other_impl).ok());
  std::vector<std::string> replies =
      Ask(*conn_, "$SRV.PING", 2, absl::Milliseconds(500));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(Str(Sub(Parse(replies[0]), "metadata"), "natsrpc.responder"),
            "carol");
}

TEST_F(DiscoveryTest, BadVersionIsInvalidArgument) {
  CalculatorImpl impl;
  Server server(*conn_, ServerOptions{.responder = "bob", .version = "1.2"});
  absl::Status s = server.AddService(impl);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("SemVer"), absl::string_view::npos) << s;
}

// docs/protocol.md section 2: the four grants serve calls, and discovery is
// reported unavailable; the discovery grants (subscribe $SRV.> and the
// health subjects, allow_responses) answer discovery and widen nothing else:
// bob still cannot publish into another responder's replies.
TEST(DiscoveryPermissionsTest, GrantsWithAndWithoutDiscovery) {
  testing::NatsServer::Options options;
  options.config = R"(
authorization {
  users: [
    {user: alice, password: a, permissions: {
      publish: {allow: ["requests.alice.>"]}
      subscribe: {allow: ["responses.alice.>"]}}}
    {user: bob, password: b, permissions: {
      subscribe: {allow: ["requests.*.bob.>"]}
      publish: {allow: ["responses.*.bob.>"]}}}
    {user: bobd, password: b, permissions: {
      subscribe: {allow: ["requests.*.bobd.>", "$SRV.>", "natsrpc.health.bobd",
                          "natsrpc.health.bobd.>"]}
      publish: {allow: ["responses.*.bobd.>"]}
      allow_responses: {max: 16}}}
    {user: ops, password: o}
  ]
}
)";
  auto nats = testing::NatsServer::Start(options);
  ASSERT_TRUE(nats.ok()) << nats.status();
  auto connect = [&](const char* user, const char* password) {
    absl::StatusOr<Connection> c = testing::ConnectForTest(
        {.url = (*nats)->url(), .user = user, .password = password});
    EXPECT_TRUE(c.ok()) << c.status();
    return std::make_unique<Connection>(*c);
  };
  auto alice = connect("alice", "a");
  auto bob = connect("bob", "b");
  auto bobd = connect("bobd", "b");
  auto ops = connect("ops", "o");

  // The four grants: calls work, discovery is unavailable, not fatal.
  CalculatorImpl impl;
  Server plain(*bob, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(plain.AddService(impl).ok());
  EXPECT_EQ(plain.discovery_status().code(),
            absl::StatusCode::kPermissionDenied)
      << plain.discovery_status();
  EXPECT_NE(plain.discovery_status().message().find("$SRV.>"),
            absl::string_view::npos)
      << plain.discovery_status();
  EXPECT_TRUE(plain.health().ok()) << plain.health();
  example::v1::Calculator::Client to_bob(
      *alice, ClientOptions{.requester = "alice", .responder = "bob"});
  EXPECT_TRUE(to_bob.Add(example::v1::AddRequest()).ok());

  // With the discovery grants.
  CalculatorImpl impl_d;
  Server with(*bobd, ServerOptions{.responder = "bobd"});
  ASSERT_TRUE(with.AddService(impl_d).ok());
  EXPECT_TRUE(with.discovery_status().ok()) << with.discovery_status();
  std::vector<std::string> replies =
      Ask(*ops, "$SRV.INFO.example_v1-Calculator");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(Str(Sub(Parse(replies[0]), "metadata"), "natsrpc.responder"),
            "bobd");
  replies = Ask(*ops, "natsrpc.health.bobd");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(Str(Parse(replies[0]), "status"), "SERVING");

  // allow_responses widens nothing else: a reply into the reply subjects of
  // another responder, never asked by that requester, is refused; the
  // allowed message published after it arrives alone (one publisher's
  // messages keep their order).
  absl::Mutex mu;
  std::vector<std::string> got;
  bool denied = false;
  const uint64_t listener =
      bobd->transport().AddEventListener([&](const TransportEvent& event) {
        if (event.kind == TransportEvent::Kind::kPermissionDenied &&
            event.publish) {
          absl::MutexLock lock(&mu);
          denied = true;
        }
      });
  auto sub =
      alice->transport().Subscribe("responses.alice.>", "", [&](MessagePtr m) {
        absl::MutexLock lock(&mu);
        got.emplace_back(m->subject());
      });
  ASSERT_TRUE(sub.ok()) << sub.status();
  (void)bobd->transport().Publish({"responses.alice.carol.example_v1.X.1",
                                   "",
                                   {},
                                   nullptr,
                                   "forged",
                                   FlushPolicy::kNow});
  ASSERT_TRUE(bobd->transport()
                  .Publish({"responses.alice.bobd.example_v1.X.2",
                            "",
                            {},
                            nullptr,
                            "allowed",
                            FlushPolicy::kNow})
                  .ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::vector<std::string>* g) { return !g->empty(); }, &got),
        absl::Seconds(5)));
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&denied), absl::Seconds(5)))
        << "nats-server did not refuse the forged reply";
    EXPECT_EQ(got,
              std::vector<std::string>{"responses.alice.bobd.example_v1.X.2"});
  }
  bobd->transport().RemoveEventListener(listener);
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
