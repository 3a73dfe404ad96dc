// Copyright 2026 The natsrpc Authors.
//
// Streaming methods of a FlatBuffers service (fbs/test/compile/streaming.fbs,
// service Streamer) through the generated API against a real nats-server that
// this binary starts on a free loopback port: one test per kind, blocking
// and callback forms, with ordering and count checks.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/stream.h"
#include "streaming.natsrpc.h"

namespace natsrpc {
namespace {

namespace ts = ::natsrpc_test::streaming;
using Tick = FlatMessage<ts::Tick>;
using Total = FlatMessage<ts::Total>;

constexpr absl::Duration kWait = absl::Seconds(20);

Tick MakeTick(int64_t n) {
  Tick t;
  t.Finish(ts::CreateTick(t.builder(), n));
  return t;
}

Total MakeTotal(int64_t sum) {
  Total t;
  t.Finish(ts::CreateTotal(t.builder(), sum));
  return t;
}

class StreamerImpl final : public ts::Streamer::Service {
 public:
  // Ticks 1..n.
  absl::Status Watch(ServerContext&, const Tick& request,
                     ServerWriter<Tick, FlatBuffersCodec>& writer) override {
    for (int64_t i = 1; i <= request->n(); ++i) {
      if (!writer.Write(MakeTick(i))) return absl::CancelledError("gone");
    }
    return absl::OkStatus();
  }
  absl::Status Sum(ServerContext&, ServerReader<Tick, FlatBuffersCodec>& reader,
                   Total& response) override {
    Tick t;
    int64_t sum = 0, expected = 1;
    while (reader.Read(&t)) {
      if (t->n() != expected++) return absl::DataLossError("out of order");
      sum += t->n();
    }
    response = MakeTotal(sum);
    return absl::OkStatus();
  }
  // The running sum after each tick.
  absl::Status Chat(
      ServerContext&,
      ServerReaderWriter<Tick, Total, FlatBuffersCodec>& stream) override {
    Tick t;
    int64_t sum = 0;
    while (stream.Read(&t)) {
      sum += t->n();
      if (!stream.Write(MakeTotal(sum))) break;
    }
    return absl::OkStatus();
  }
};

class FbsStreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nats = testing::NatsServer::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    auto conn = Connect({.url = nats_->url()});
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_.emplace(*std::move(conn));
    server_ =
        std::make_unique<Server>(*conn_, ServerOptions{.responder = "bob"});
    ASSERT_TRUE(server_->AddService(impl_).ok());
    client_ = std::make_unique<ts::Streamer::Client>(
        *conn_, ClientOptions{.requester = "alice", .responder = "bob"});
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }

  std::unique_ptr<testing::NatsServer> nats_;
  std::optional<Connection> conn_;
  StreamerImpl impl_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<ts::Streamer::Client> client_;
};

TEST_F(FbsStreamingTest, ServerStream) {
  auto reader = client_->Watch(MakeTick(1000));
  Tick t;
  int64_t n = 0;
  while (reader->Read(&t)) {
    ++n;
    ASSERT_EQ(t->n(), n);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 1000);
  EXPECT_LE(reader->stats().max_buffered, reader->stats().window);
}

TEST_F(FbsStreamingTest, ClientStream) {
  auto writer = client_->Sum();
  for (int64_t i = 1; i <= 500; ++i) ASSERT_TRUE(writer->Write(MakeTick(i)));
  absl::StatusOr<Total> total = writer->Finish();
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ((*total)->sum(), 500 * 501 / 2);
}

TEST_F(FbsStreamingTest, BidiStream) {
  auto stream = client_->Chat();
  std::thread writer([&] {
    for (int64_t i = 1; i <= 1000; ++i) {
      if (!stream->Write(MakeTick(i))) return;
    }
    stream->WritesDone();
  });
  Total total;
  int64_t n = 0;
  while (stream->Read(&total)) {
    ++n;
    ASSERT_EQ(total->sum(), n * (n + 1) / 2);
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(n, 1000);
}

class WatchReactor final : public ClientReadReactor<Tick> {
 public:
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (tick->n() != ++n) in_order = false;
    StartRead(&tick);
  }
  void OnDone(const absl::Status& s) override {
    status = s;
    done.Notify();
  }
  Tick tick;
  int64_t n = 0;
  bool in_order = true;
  absl::Status status;
  absl::Notification done;
};

TEST_F(FbsStreamingTest, CallbackReactor) {
  WatchReactor reactor;
  client_->WatchAsync(MakeTick(300), &reactor);
  reactor.StartRead(&reactor.tick);
  ASSERT_TRUE(reactor.done.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(reactor.status.ok()) << reactor.status;
  EXPECT_EQ(reactor.n, 300);
  EXPECT_TRUE(reactor.in_order);
}

}  // namespace
}  // namespace natsrpc
