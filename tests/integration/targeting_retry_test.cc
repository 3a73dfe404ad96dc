// Copyright 2026 The natsrpc Authors.
//
// Instance targeting, retries and wait-for-ready through the code generated
// from proto/example/v1/calculator.proto (Add: idempotency_level
// NO_SIDE_EFFECTS; Echo: not idempotent). The cases:
// targeting_retry_cases.h.

#include <string>

#include "example/v1/calculator.natsrpc.h"
#include "natsrpc/testing/v1/stream_service.natsrpc.h"
#include "targeting_retry_cases.h"

namespace natsrpc::targeting {
namespace {

namespace ev1 = ::example::v1;

struct ProtoCalculator {
  using Calculator = ev1::Calculator;

  static ev1::AddRequest Add(int64_t a, int64_t b) {
    ev1::AddRequest r;
    r.set_a(a);
    r.set_b(b);
    return r;
  }
  static int64_t Sum(const ev1::AddReply& r) { return r.sum(); }
  static ev1::EchoMessage Echo(std::string payload) {
    ev1::EchoMessage m;
    m.set_payload(std::move(payload));
    return m;
  }
  static std::string Payload(const ev1::EchoMessage& m) { return m.payload(); }

  class Impl final : public ev1::Calculator::Service, public Behaviour {
   public:
    absl::Status Add(ServerContext&, const ev1::AddRequest& req,
                     ev1::AddReply& reply) override {
      if (absl::Status s = OnAdd(); !s.ok()) return s;
      reply.set_sum(req.a() + req.b());
      return absl::OkStatus();
    }
    absl::Status Echo(ServerContext&, const ev1::EchoMessage& req,
                      ev1::EchoMessage& reply) override {
      if (absl::Status s = OnEcho(); !s.ok()) return s;
      reply.set_payload(req.payload());
      return absl::OkStatus();
    }
  };
};

INSTANTIATE_TYPED_TEST_SUITE_P(Proto, TargetingRetryTest, ProtoCalculator);

namespace tv1 = ::natsrpc::testing::v1;

// Counts the server streams it served.
class CountingStreams final : public tv1::StreamService::Service {
 public:
  absl::Status Count(ServerContext&, const tv1::CountRequest& req,
                     ServerWriter<tv1::Item, ProtobufCodec>& writer) override {
    served.fetch_add(1);
    for (int64_t i = 1; i <= req.count(); ++i) {
      tv1::Item item;
      item.set_seq(i);
      if (!writer.Write(item)) return absl::CancelledError("stream over");
    }
    return absl::OkStatus();
  }
  std::atomic<int> served{0};
};

// Streams open on one instance too (docs/protocol.md 2.1): the accept comes
// from it, and a gone instance is UNAVAILABLE at once.
TEST(TargetedStreamTest, StreamsOpenOnTheChosenInstance) {
  auto nats = natsrpc::testing::NatsServer::Start();
  ASSERT_TRUE(nats.ok()) << nats.status();
  auto a_conn = Connect(ConnectOptions{.url = (*nats)->url()});
  auto b_conn = Connect(ConnectOptions{.url = (*nats)->url()});
  auto client_conn = Connect(ConnectOptions{.url = (*nats)->url()});
  ASSERT_TRUE(a_conn.ok() && b_conn.ok() && client_conn.ok());
  CountingStreams a_impl, b_impl;
  Server a(*a_conn, ServerOptions{.responder = "bob"});
  Server b(*b_conn, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(a.AddService(a_impl).ok());
  ASSERT_TRUE(b.AddService(b_impl).ok());
  tv1::StreamService::Client client(
      *client_conn, ClientOptions{.requester = "alice", .responder = "bob"});

  constexpr int kStreams = 5;
  tv1::CountRequest req;
  req.set_count(7);
  for (int s = 0; s < kStreams; ++s) {
    auto reader = client.Count(req, CallOptions{.instance = b.instance_id()});
    tv1::Item item;
    int64_t n = 0;
    while (reader->Read(&item)) EXPECT_EQ(item.seq(), ++n);
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(n, 7);
  }
  EXPECT_EQ(b_impl.served.load(), kStreams);
  EXPECT_EQ(a_impl.served.load(), 0);

  b.Shutdown();
  ASSERT_TRUE(Eventually([&] {
    auto reader =
        client.Count(req, CallOptions{.timeout = absl::Milliseconds(200),
                                      .instance = b.instance_id()});
    tv1::Item item;
    while (reader->Read(&item)) {
    }
    return reader->Finish().code() == absl::StatusCode::kUnavailable;
  }));
  const absl::Time start = absl::Now();
  auto reader = client.Count(req, CallOptions{.timeout = absl::Seconds(30),
                                              .instance = b.instance_id()});
  tv1::Item item;
  EXPECT_FALSE(reader->Read(&item));
  const absl::Status finish = reader->Finish();
  EXPECT_EQ(finish.code(), absl::StatusCode::kUnavailable) << finish;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(a_impl.served.load(), 0);
}

}  // namespace
}  // namespace natsrpc::targeting
