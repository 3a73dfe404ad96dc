// Copyright 2026 The natsrpc Authors.
//
// Streams through the in-process test channel (natsrpc/testing/
// in_process.h): a generated Client and a real Server of
// proto/test/compile/streaming.proto's Streamer, without NATS. Every kind
// of stream, a handler's error status, a stream deadline and metadata.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/in_process.h"
#include "test/compile/streaming.natsrpc.h"

namespace {

namespace st = ::natsrpc_test::streaming;

st::Tick MakeTick(int64_t n) {
  st::Tick tick;
  tick.set_n(n);
  return tick;
}

class StreamerImpl final : public st::Streamer::Service {
 public:
  // Writes 1..n; n < 0: NOT_FOUND after the first tick; n == 0: waits for
  // the stream's deadline.
  absl::Status Watch(natsrpc::ServerContext& context, const st::Tick& request,
                     natsrpc::ServerWriter<st::Tick, natsrpc::ProtobufCodec>&
                         writer) override {
    if (request.n() == 0) {
      absl::Notification never;
      never.WaitForNotificationWithDeadline(context.deadline());
      return absl::DeadlineExceededError("waited for the deadline");
    }
    if (request.n() < 0) {
      writer.Write(MakeTick(1));
      return absl::NotFoundError("no more ticks");
    }
    for (int64_t i = 1; i <= request.n(); ++i) {
      if (!writer.Write(MakeTick(i))) break;
    }
    return absl::OkStatus();
  }

  absl::Status Sum(
      natsrpc::ServerContext& context,
      natsrpc::ServerReader<st::Tick, natsrpc::ProtobufCodec>& reader,
      st::Total& response) override {
    st::Tick tick;
    int64_t sum = 0;
    while (reader.Read(&tick)) sum += tick.n();
    // The metadata of the call scales the sum.
    std::optional<absl::string_view> scale = context.metadata("scale");
    response.set_sum(scale.has_value() && *scale == "10" ? sum * 10 : sum);
    return absl::OkStatus();
  }

  absl::Status Chat(
      natsrpc::ServerContext&,
      natsrpc::ServerReaderWriter<st::Tick, st::Total, natsrpc::ProtobufCodec>&
          stream) override {
    st::Tick tick;
    int64_t sum = 0;
    while (stream.Read(&tick)) {
      sum += tick.n();
      st::Total total;
      total.set_sum(sum);
      if (!stream.Write(total)) break;
    }
    return absl::OkStatus();
  }
};

class InProcessStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.AddService(impl_).ok()); }

  StreamerImpl impl_;
  natsrpc::testing::InProcessChannel channel_;
  natsrpc::Server server_{channel_.connection(),
                          natsrpc::ServerOptions{.responder = "bob"}};
  st::Streamer::Client client_{
      channel_.connection(),
      natsrpc::ClientOptions{.requester = "alice", .responder = "bob"}};
};

TEST_F(InProcessStreamTest, ServerStream) {
  auto reader = client_.Watch(MakeTick(100));
  st::Tick tick;
  int64_t sum = 0;
  int count = 0;
  while (reader->Read(&tick)) {
    sum += tick.n();
    ++count;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(count, 100);  // more than the default window of 16
  EXPECT_EQ(sum, 5050);
}

TEST_F(InProcessStreamTest, ServerStreamErrorStatus) {
  auto reader = client_.Watch(MakeTick(-1));
  st::Tick tick;
  while (reader->Read(&tick)) {
  }
  EXPECT_EQ(reader->Finish(), absl::NotFoundError("no more ticks"));
}

TEST_F(InProcessStreamTest, StreamDeadline) {
  auto reader =
      client_.Watch(MakeTick(0), {.timeout = absl::Milliseconds(100)});
  st::Tick tick;
  EXPECT_FALSE(reader->Read(&tick));
  EXPECT_EQ(reader->Finish().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(InProcessStreamTest, ClientStreamWithMetadata) {
  auto writer = client_.Sum({.metadata = {{"scale", "10"}}});
  for (int i = 1; i <= 40; ++i) ASSERT_TRUE(writer->Write(MakeTick(i)));
  absl::StatusOr<st::Total> total = writer->Finish();
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(total->sum(), 8200);
}

TEST_F(InProcessStreamTest, BidiStream) {
  auto chat = client_.Chat();
  st::Total total;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(chat->Write(MakeTick(i)));
    ASSERT_TRUE(chat->Read(&total));
    EXPECT_EQ(total.sum(), i * (i + 1) / 2);
  }
  EXPECT_TRUE(chat->WritesDone());
  EXPECT_FALSE(chat->Read(&total));
  EXPECT_TRUE(chat->Finish().ok());
}

}  // namespace
