// Copyright 2026 The natsrpc Authors.
//
// Unit tests of the typed stream objects (natsrpc/stream.h) over two stream
// core endpoints wired through the in-memory transport, with protobuf
// messages. Server handlers run on their own thread, as they will in the
// server's worker pool.

#include "natsrpc/stream.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "stream_testing.h"
#include "stream/stream_endpoint.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::natsrpc::testing::InMemoryTransport;
using internal::StreamEndpoint;
using internal::StreamEndpointOptions;

constexpr absl::string_view kReplyTo = "responses.alice.bob.app.cid.7";
constexpr absl::string_view kStream = "requests.alice.bob.app.Svc.M.I1.1";

StringValue Str(absl::string_view v) {
  StringValue s;
  s.set_value(std::string(v));
  return s;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

class StreamApiTest : public ::testing::Test {
 protected:
  // A stream as after open/accept: `client_sends` / `server_sends` select
  // the kind.
  void Open(bool client_sends, bool server_sends, uint64_t window = 2) {
    StreamEndpointOptions c;
    c.sends = client_sends;
    c.receives = true;  // a client always gets at least the end
    c.window = window;
    c.initial_send_credit = window;
    c.peer_subject = std::string(kStream);
    c.peer_end_closes_send = true;
    StreamEndpointOptions s;
    s.sends = true;  // a server always sends at least the end
    s.receives = client_sends;
    s.window = window;
    s.initial_send_credit = window;
    s.peer_subject = std::string(kReplyTo);
    s.own_end_ends_stream = true;
    s.silence_code = absl::StatusCode::kCancelled;
    (void)server_sends;
    client_ = std::make_shared<StreamEndpoint>(transport_, c);
    server_ = std::make_shared<StreamEndpoint>(transport_, s);
    auto ss = transport_->Subscribe(
        "requests.*.bob.app.*.*.I1.*", "",
        [this](MessagePtr m) { server_->OnMessage(std::move(m)); });
    ASSERT_TRUE(ss.ok());
    server_sub_ = *std::move(ss);
    auto cs = transport_->Subscribe(
        "responses.alice.*.*.cid.*", "",
        [this](MessagePtr m) { client_->OnMessage(std::move(m)); });
    ASSERT_TRUE(cs.ok());
    client_sub_ = *std::move(cs);
  }

  void TearDown() override {
    if (handler_.joinable()) handler_.join();
  }

  std::shared_ptr<InMemoryTransport> transport_ =
      std::make_shared<InMemoryTransport>();
  std::shared_ptr<StreamEndpoint> client_;
  std::shared_ptr<StreamEndpoint> server_;
  std::unique_ptr<Subscription> server_sub_;
  std::unique_ptr<Subscription> client_sub_;
  std::thread handler_;
};

TEST_F(StreamApiTest, ServerStream) {
  Open(/*client_sends=*/false, /*server_sends=*/true);
  handler_ = std::thread([this] {
    ServerWriter<StringValue, ProtobufCodec> writer(server_, Soon());
    for (int i = 1; i <= 10; ++i) {
      if (!writer.Write(Str(absl::StrCat("r", i)))) return;
    }
    testing::FinishServerStream(*server_, absl::NotFoundError("done"))
        .IgnoreError();
  });
  ClientReader<StringValue, ProtobufCodec> reader(client_, Soon());
  StringValue v;
  int n = 0;
  while (reader.Read(&v)) {
    ++n;
    EXPECT_EQ(v.value(), absl::StrCat("r", n));
  }
  EXPECT_EQ(n, 10);
  absl::Status s = reader.Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "done");
  EXPECT_LE(client_->stats().max_buffered, 2u);
}

TEST_F(StreamApiTest, ClientStream) {
  Open(/*client_sends=*/true, /*server_sends=*/false);
  handler_ = std::thread([this] {
    ServerReader<StringValue, ProtobufCodec> reader(server_, Soon());
    std::string all;
    StringValue v;
    while (reader.Read(&v)) all += v.value();
    testing::FinishClientStream<StringValue, ProtobufCodec>(
        *server_, absl::OkStatus(), Str(all))
        .IgnoreError();
  });
  ClientWriter<StringValue, StringValue, ProtobufCodec> writer(client_,
                                                               Soon());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(writer.Write(Str(absl::StrCat(i))));
  absl::StatusOr<StringValue> reply = writer.Finish();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->value(), "0123456");
}

TEST_F(StreamApiTest, ClientStreamError) {
  Open(/*client_sends=*/true, /*server_sends=*/false);
  handler_ = std::thread([this] {
    ServerReader<StringValue, ProtobufCodec> reader(server_, Soon());
    StringValue v;
    reader.Read(&v);
    testing::FinishClientStream<StringValue, ProtobufCodec>(
        *server_, absl::FailedPreconditionError("first is enough"),
        StringValue())
        .IgnoreError();
  });
  ClientWriter<StringValue, StringValue, ProtobufCodec> writer(client_,
                                                               Soon());
  writer.Write(Str("a"));
  handler_.join();
  // The server ended the call: writes fail, Finish tells why.
  EXPECT_FALSE(writer.Write(Str("b")));
  EXPECT_EQ(writer.Finish().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(StreamApiTest, ClientStreamWithTwoRepliesIsInternal) {
  Open(/*client_sends=*/true, /*server_sends=*/false);
  ClientWriter<StringValue, StringValue, ProtobufCodec> writer(client_,
                                                               Soon());
  ASSERT_TRUE(writer.WritesDone());
  ASSERT_TRUE(server_->Write("", nullptr).ok());
  ASSERT_TRUE(server_->Write("", nullptr).ok());
  ASSERT_TRUE(server_->WritesDone(absl::OkStatus()).ok());
  EXPECT_EQ(writer.Finish().status().code(), absl::StatusCode::kInternal);
}

TEST_F(StreamApiTest, BidiEcho) {
  Open(/*client_sends=*/true, /*server_sends=*/true);
  handler_ = std::thread([this] {
    ServerReaderWriter<StringValue, StringValue, ProtobufCodec> rw(server_,
                                                                   Soon());
    StringValue v;
    while (rw.Read(&v)) {
      if (!rw.Write(Str(absl::StrCat("echo ", v.value())))) return;
    }
    testing::FinishServerStream(*server_, absl::OkStatus()).IgnoreError();
  });
  ClientReaderWriter<StringValue, StringValue, ProtobufCodec> rw(client_,
                                                                 Soon());
  StringValue v;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(rw.Write(Str(absl::StrCat(i))));
    ASSERT_TRUE(rw.Read(&v));
    EXPECT_EQ(v.value(), absl::StrCat("echo ", i));
  }
  ASSERT_TRUE(rw.WritesDone());
  EXPECT_FALSE(rw.Read(&v));
  EXPECT_TRUE(rw.Finish().ok());
}

TEST_F(StreamApiTest, UndecodableReplyIsInternalAndCancelsTheServer) {
  Open(/*client_sends=*/false, /*server_sends=*/true);
  ASSERT_TRUE(server_->Write("\xff\xff\xff", nullptr).ok());
  ClientReader<StringValue, ProtobufCodec> reader(client_, Soon());
  StringValue v;
  EXPECT_FALSE(reader.Read(&v));
  EXPECT_EQ(reader.Finish().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kInternal);
}

TEST_F(StreamApiTest, UndecodableRequestIsInvalidArgumentForTheClient) {
  Open(/*client_sends=*/true, /*server_sends=*/true);
  ASSERT_TRUE(client_->Write("\xff\xff\xff", nullptr).ok());
  ServerReaderWriter<StringValue, StringValue, ProtobufCodec> rw(server_,
                                                                 Soon());
  StringValue v;
  EXPECT_FALSE(rw.Read(&v));
  ClientReaderWriter<StringValue, StringValue, ProtobufCodec> crw(client_,
                                                                  Soon());
  EXPECT_EQ(crw.Finish().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StreamApiTest, DeadlineEndsTheStreamOnBothSides) {
  Open(/*client_sends=*/false, /*server_sends=*/true);
  ClientReader<StringValue, ProtobufCodec> reader(client_,
                                                  absl::InfinitePast());
  StringValue v;
  EXPECT_FALSE(reader.Read(&v));
  EXPECT_EQ(reader.Finish().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(StreamApiTest, ClientCancelReachesTheServer) {
  Open(/*client_sends=*/true, /*server_sends=*/true);
  ClientReaderWriter<StringValue, StringValue, ProtobufCodec> rw(client_,
                                                                 Soon());
  rw.Cancel();
  EXPECT_EQ(rw.Finish().code(), absl::StatusCode::kCancelled);
  ServerReaderWriter<StringValue, StringValue, ProtobufCodec> srw(server_,
                                                                  Soon());
  StringValue v;
  EXPECT_FALSE(srw.Read(&v));
  EXPECT_FALSE(srw.Write(Str("x")));
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace natsrpc
