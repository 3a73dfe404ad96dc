// Copyright 2026 The natsrpc Authors.
//
// The typed stream objects (natsrpc/stream.h) with the FlatBuffers codec:
// a bidi stream of calculator tables over the in-memory transport, received
// zero-copy and verified, and an unverifiable message rejected.

#include <memory>
#include <string>
#include <thread>

#include "calculator.natsrpc.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "stream_testing.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/stream.h"
#include "stream/stream_endpoint.h"

namespace natsrpc {
namespace {

namespace ev1 = ::example::v1;
using internal::StreamEndpoint;
using internal::StreamEndpointOptions;
using testing::InMemoryTransport;

class FbsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StreamEndpointOptions c;
    c.window = 2;
    c.initial_send_credit = 2;
    c.peer_subject = "requests.alice.bob.app.Calc.Sums.I1.1";
    c.peer_end_closes_send = true;
    StreamEndpointOptions s;
    s.window = 2;
    s.initial_send_credit = 2;
    s.peer_subject = "responses.alice.bob.app.cid.1";
    s.own_end_ends_stream = true;
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

using Req = FlatMessage<ev1::AddRequest>;
using Reply = FlatMessage<ev1::AddReply>;

TEST_F(FbsStreamTest, BidiSumsZeroCopy) {
  handler_ = std::thread([this] {
    ServerReaderWriter<Req, Reply, FlatBuffersCodec> rw(
        server_, absl::Now() + absl::Seconds(30));
    Req req;
    while (rw.Read(&req)) {
      Reply reply;
      reply.Finish(ev1::CreateAddReply(reply.builder(), req->a() + req->b()));
      if (!rw.Write(reply)) return;
    }
    testing::FinishServerStream(*server_, absl::OkStatus()).IgnoreError();
  });
  ClientReaderWriter<Req, Reply, FlatBuffersCodec> rw(
      client_, absl::Now() + absl::Seconds(30));
  for (int i = 0; i < 10; ++i) {
    Req req;
    req.Finish(ev1::CreateAddRequest(req.builder(), i, 100));
    ASSERT_TRUE(rw.Write(req));
    Reply reply;
    ASSERT_TRUE(rw.Read(&reply));
    EXPECT_EQ(reply->sum(), i + 100);
    // A view into the received NATS message: no copy.
    EXPECT_NE(reply.source_message(), nullptr);
  }
  ASSERT_TRUE(rw.WritesDone());
  EXPECT_TRUE(rw.Finish().ok());
}

TEST_F(FbsStreamTest, UnverifiableReplyIsInternal) {
  ASSERT_TRUE(server_->Write("\x01\x02", nullptr).ok());
  ClientReaderWriter<Req, Reply, FlatBuffersCodec> rw(
      client_, absl::Now() + absl::Seconds(30));
  Reply reply;
  EXPECT_FALSE(rw.Read(&reply));
  EXPECT_EQ(rw.Finish().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace natsrpc
