// Copyright 2026 The natsrpc Authors.
//
// The typed stream objects (natsrpc/stream.h) with the FlatBuffers codec:
// a bidi stream of calculator tables over the in-memory transport, received
// zero-copy and verified, and an unverifiable message rejected.

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "calculator.natsrpc.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/flatbuffers_codec.h"
#include "natsrpc/stream.h"
#include "stream/stream_endpoint.h"
#include "stream_testing.h"

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
    // A view into the received NATS message, or (misaligned) a counted copy.
    EXPECT_TRUE(reply.source_message() != nullptr ||
                FlatBuffersAlignmentCopies() > 0);
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

// A received message whose payload starts `offset` bytes into an 8-aligned
// buffer.
class OffsetMessage final : public IncomingMessage {
 public:
  OffsetMessage(absl::string_view bytes, size_t offset) : offset_(offset) {
    storage_.reset(new uint64_t[bytes.size() / 8 + 2]);
    std::memcpy(reinterpret_cast<char*>(storage_.get()) + offset, bytes.data(),
                bytes.size());
    size_ = bytes.size();
  }
  absl::string_view subject() const override { return "s"; }
  absl::string_view reply() const override { return ""; }
  absl::string_view data() const override {
    return absl::string_view(
        reinterpret_cast<const char*>(storage_.get()) + offset_, size_);
  }
  std::optional<absl::string_view> header(absl::string_view) const override {
    return std::nullopt;
  }
  Metadata headers() const override { return {}; }
  bool is_no_responders() const override { return false; }

 private:
  std::unique_ptr<uint64_t[]> storage_;
  size_t offset_;
  size_t size_ = 0;
};

// NATS puts a payload at any offset. FlatBuffers reads scalars in place, so
// a misaligned payload must be copied (and counted), never read where it is
// (UBSan: misaligned load); an aligned one is still read in place.
TEST(FlatBuffersCodecTest, MisalignedPayloadIsCopiedAlignedIsNot) {
  Req built;
  built.Finish(ev1::CreateAddRequest(built.builder(), 40, 2));
  for (size_t offset : {size_t{0}, size_t{1}, size_t{4}, size_t{8}}) {
    SCOPED_TRACE(offset);
    auto message = std::make_shared<OffsetMessage>(built.bytes(), offset);
    const uint64_t copies_before = FlatBuffersAlignmentCopies();
    Req received;
    ASSERT_TRUE(FlatBuffersCodec<Req>::Decode(message, received).ok());
    const bool aligned = offset % kFlatBuffersPayloadAlignment == 0;
    EXPECT_EQ(received.source_message() != nullptr, aligned);
    EXPECT_EQ(FlatBuffersAlignmentCopies() - copies_before, aligned ? 0 : 1);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(received.bytes().data()) %
                  kFlatBuffersPayloadAlignment,
              0u);
    EXPECT_EQ(received->a(), 40);
    EXPECT_EQ(received->b(), 2);
  }
}

}  // namespace
}  // namespace natsrpc
