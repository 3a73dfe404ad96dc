// Copyright 2026 The natsrpc Authors.
//
// Unit tests of opening, accepting and refusing streams
// (runtime/src/stream/client_stream.h) over the in-memory transport, wired as
// ReplyMux and ServerCore will wire them, with the typed objects on top.

#include "stream/client_stream.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "stream_testing.h"
#include "natsrpc/stream.h"

namespace natsrpc::internal {
namespace {

using ::google::protobuf::StringValue;
using ::natsrpc::testing::InMemoryTransport;

std::optional<std::string> Header(const InMemoryTransport::Sent& m,
                                  absl::string_view key) {
  for (const auto& [k, v] : m.headers) {
    if (k == key) return v;
  }
  return std::nullopt;
}

class StreamSessionTest : public ::testing::Test {
 protected:
  // bob's instance: accepts every open of service Room (or refuses with
  // `refuse_` if set), and runs `handler_body_` on its own thread.
  void StartBob() {
    auto open = transport_->Subscribe(
        wire::ServiceWildcard("bob", "app", "Room"), wire::DefaultQueueGroup("bob", "app"),
        [this](MessagePtr m) {
          auto parts = wire::ParseRequestSubject(m->subject());
          ASSERT_TRUE(parts.ok());
          ASSERT_TRUE(wire::CheckReplySubject(m->reply(), *parts).ok());
          open_ = m;
          if (!refuse_.ok()) {
            ASSERT_TRUE(RefuseStream(*transport_, *m, refuse_).ok());
            return;
          }
          ServerStreamParams p;
          p.receives = parts->method != "List";
          p.window = server_window_;
          p.legacy_window = server_legacy_window_;
          p.window_bytes = server_window_bytes_;
          auto e = AcceptStream(transport_, table_, *m, *parts, p);
          ASSERT_TRUE(e.ok()) << e.status();
          server_ = *e;
          if (handler_body_) {
            handler_ = std::thread([this, e = *e] { handler_body_(e); });
          }
        });
    ASSERT_TRUE(open.ok());
    subs_.push_back(*std::move(open));
    auto streams = transport_->Subscribe(
        wire::StreamWildcard("bob", "app", table_.instance_id()), "",
        [this](MessagePtr m) { table_.RouteStreamMessage(std::move(m)); });
    ASSERT_TRUE(streams.ok());
    subs_.push_back(*std::move(streams));
    auto cancels = transport_->Subscribe(
        wire::CancelWildcard("bob", "app", "Room"), "",
        [this](MessagePtr m) { table_.RouteCancel(*m); });
    ASSERT_TRUE(cancels.ok());
    subs_.push_back(*std::move(cancels));
  }

  // alice's side: the ReplyMux hook is a subscription routing seq 1 to the
  // ClientStream.
  std::shared_ptr<ClientStream> OpenStream(absl::string_view method,
                                           bool sends,
                                           std::string payload = "") {
    ClientStreamParams p;
    p.requester = "alice";
    p.responder = "bob";
    p.app = "app";
    p.service = "Room";
    p.method = std::string(method);
    p.client_id = "cid";
    p.seq = 1;
    p.deadline = absl::Now() + absl::Seconds(30);
    p.sends = sends;
    p.window = client_window_;
    p.legacy_window = client_legacy_window_;
    p.window_bytes = client_window_bytes_;
    p.content_type = "application/protobuf";
    p.payload = std::move(payload);
    auto stream = ClientStream::Create(transport_, std::move(p));
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return nullptr;
    std::shared_ptr<ClientStream> s = *stream;
    auto sub = transport_->Subscribe("responses.alice.*.*.cid.1", "",
                                     [s](MessagePtr m) { s->OnReply(m); });
    EXPECT_TRUE(sub.ok());
    subs_.push_back(*std::move(sub));
    EXPECT_TRUE(s->Open().ok());
    return s;
  }

  void TearDown() override {
    if (handler_.joinable()) handler_.join();
    subs_.clear();
  }

  std::shared_ptr<InMemoryTransport> transport_ =
      std::make_shared<InMemoryTransport>();
  ServerStreamTable table_{"I1"};
  // Windows (revision 5, docs/protocol.md 9.5.1); bytes 0: no byte credit.
  uint64_t server_window_ = 2, server_legacy_window_ = 0;
  uint64_t server_window_bytes_ = 0;
  uint64_t client_window_ = 2, client_legacy_window_ = 0;
  uint64_t client_window_bytes_ = 0;
  absl::Status refuse_;
  MessagePtr open_;
  std::shared_ptr<StreamEndpoint> server_;
  std::function<void(std::shared_ptr<StreamEndpoint>)> handler_body_;
  std::thread handler_;
  std::vector<std::unique_ptr<Subscription>> subs_;
};

TEST_F(StreamSessionTest, OpenCarriesTheHeadersAndAcceptNamesTheStream) {
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->accepted());
  ASSERT_NE(open_, nullptr);
  EXPECT_EQ(open_->subject(), "requests.alice.bob.app.Room.Chat");
  EXPECT_EQ(open_->reply(), "responses.alice.bob.app.cid.1");
  EXPECT_EQ(open_->header("Natsrpc-Stream"), "open");
  EXPECT_EQ(open_->header("Natsrpc-Credit"), "2");
  EXPECT_EQ(open_->header("Natsrpc-Heartbeat"), "5000000u");
  EXPECT_TRUE(open_->header("Natsrpc-Timeout").has_value());
  EXPECT_EQ(open_->header("Content-Type"), "application/protobuf");
  bool saw_accept = false;
  for (const auto& m : transport_->sent()) {
    if (Header(m, "Natsrpc-Stream") != "accept") continue;
    saw_accept = true;
    EXPECT_EQ(m.subject, "responses.alice.bob.app.cid.1");
    EXPECT_EQ(m.reply, "requests.alice.bob.app.Room.Chat.I1.1");
    EXPECT_EQ(Header(m, "Natsrpc-Credit"), "2");
    EXPECT_EQ(Header(m, "Natsrpc-Heartbeat"), "5000000u");
  }
  EXPECT_TRUE(saw_accept);
  EXPECT_EQ(table_.open_streams(), 1u);
}

TEST_F(StreamSessionTest, ServerStreamEndToEndWithTypedObjects) {
  handler_body_ = [](std::shared_ptr<StreamEndpoint> e) {
    ServerWriter<StringValue, ProtobufCodec> w(e, absl::Now() +
                                                      absl::Seconds(30));
    for (int i = 0; i < 9; ++i) {
      StringValue v;
      v.set_value(absl::StrCat(i));
      if (!w.Write(v)) return;
    }
    testing::FinishServerStream(*e, absl::OkStatus()).IgnoreError();
  };
  StartBob();
  StringValue req;
  req.set_value("list please");
  auto stream = OpenStream("List", /*sends=*/false, req.SerializeAsString());
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(open_->data(), req.SerializeAsString());
  ClientReader<StringValue, ProtobufCodec> reader(
      stream->endpoint(), absl::Now() + absl::Seconds(30));
  StringValue v;
  std::string all;
  while (reader.Read(&v)) all += v.value();
  EXPECT_EQ(all, "012345678");
  EXPECT_TRUE(reader.Finish().ok());
  EXPECT_LE(stream->endpoint()->stats().max_buffered, 2u);
  handler_.join();
  table_.TickAll();
  EXPECT_EQ(table_.open_streams(), 0u);
}

TEST_F(StreamSessionTest, RefusalEndsTheStreamWithItsStatus) {
  refuse_ = absl::ResourceExhaustedError("too many\nstreams");
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  EXPECT_FALSE(stream->accepted());
  StreamRead r = stream->endpoint()->Read();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status.message(), "too many\nstreams");  // exact: the body
}

TEST_F(StreamSessionTest, NoRespondersIsUnavailable) {
  // Nobody serves Room.
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(stream->endpoint()->Read().status.code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(StreamSessionTest, CancelBeforeAcceptUsesTheCancelSubject) {
  // An instance that takes the open but has not accepted yet: the stream
  // is registered under its reply-to only.
  StartBob();
  ClientStreamParams p;
  p.requester = "alice";
  p.responder = "bob";
  p.app = "app";
  p.service = "Room";
  p.method = "Chat";
  p.client_id = "cid";
  p.seq = 1;
  p.sends = true;
  auto stream = ClientStream::Create(transport_, p);
  ASSERT_TRUE(stream.ok());
  // Not opened: nothing accepted; the instance knows the call from another
  // path (as if the open were still queued there).
  StreamEndpointOptions o;
  o.peer_subject = "responses.alice.bob.app.cid.1";
  auto queued = std::make_shared<StreamEndpoint>(transport_, o);
  table_.AddStream({"alice", "bob", "app", "Room", "Chat"},
                   "responses.alice.bob.app.cid.1", queued);
  (*stream)->Cancel();
  EXPECT_EQ((*stream)->endpoint()->failure().code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(queued->failure().code(), absl::StatusCode::kCancelled);
  bool saw = false;
  for (const auto& m : transport_->sent()) {
    if (m.subject == "requests.alice.bob.app.Room.Chat.cancel.cid.1") {
      saw = true;
      EXPECT_EQ(Header(m, "Natsrpc-Stream"), "cancel");
    }
  }
  EXPECT_TRUE(saw);
}

TEST_F(StreamSessionTest, CancelAfterAcceptUsesTheStreamSubject) {
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->accepted());
  stream->Cancel();
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(server_->failure().code(), absl::StatusCode::kCancelled);
  for (const auto& m : transport_->sent()) {
    EXPECT_NE(m.subject, "requests.alice.bob.app.Room.Chat.cancel.cid.1");
  }
}

TEST_F(StreamSessionTest, BadNamesAreRefusedBeforeAnythingIsSent) {
  ClientStreamParams p;
  p.requester = "al.ice";
  p.responder = "bob";
  p.app = "app";
  p.service = "Room";
  p.method = "Chat";
  p.client_id = "cid";
  EXPECT_EQ(ClientStream::Create(transport_, p).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(transport_->sent().empty());
}

TEST_F(StreamSessionTest, AcceptRaisesTheHeartbeatForBothSides) {
  StartBob();
  ClientStreamParams p;
  p.requester = "alice";
  p.responder = "bob";
  p.app = "app";
  p.service = "Room";
  p.method = "Chat";
  p.client_id = "cid";
  p.seq = 1;
  p.sends = true;
  p.heartbeat = absl::Milliseconds(10);  // below bob's 1 s minimum
  auto stream = ClientStream::Create(transport_, p);
  ASSERT_TRUE(stream.ok());
  std::shared_ptr<ClientStream> s = *stream;
  auto sub = transport_->Subscribe("responses.alice.*.*.cid.1", "",
                                   [s](MessagePtr m) { s->OnReply(m); });
  ASSERT_TRUE(sub.ok());
  subs_.push_back(*std::move(sub));
  ASSERT_TRUE(s->Open().ok());
  for (const auto& m : transport_->sent()) {
    if (Header(m, "Natsrpc-Stream") == "accept") {
      EXPECT_EQ(Header(m, "Natsrpc-Heartbeat"), "1000000u");
    }
  }
}

// Revision 5 (docs/protocol.md 9.5.1): byte credit is negotiated by
// Natsrpc-Credit-Bytes on open and accept.
TEST_F(StreamSessionTest, ByteCreditIsNegotiatedOnOpenAndAccept) {
  server_window_ = 8;
  server_legacy_window_ = 2;
  server_window_bytes_ = 100;
  client_window_ = 8;
  client_legacy_window_ = 2;
  client_window_bytes_ = 50;
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->accepted());
  // The open announces the revision-4 window (the server's revision is not
  // known yet) and the byte window.
  EXPECT_EQ(open_->header("Natsrpc-Credit"), "2");
  EXPECT_EQ(open_->header("Natsrpc-Credit-Bytes"), "50");
  EXPECT_EQ(open_->header("Natsrpc-Revision"), "5");
  for (const auto& m : transport_->sent()) {
    if (Header(m, "Natsrpc-Stream") != "accept") continue;
    EXPECT_EQ(Header(m, "Natsrpc-Credit"), "8");
    EXPECT_EQ(Header(m, "Natsrpc-Credit-Bytes"), "100");
  }
  EXPECT_EQ(server_->window(), 8u);
  EXPECT_EQ(server_->window_bytes(), 100u);
  EXPECT_EQ(stream->endpoint()->window(), 8u);
  EXPECT_EQ(stream->endpoint()->window_bytes(), 50u);
}

TEST_F(StreamSessionTest, ClientWithoutByteCreditGetsTheRevision4Window) {
  server_window_ = 8;
  server_legacy_window_ = 2;
  server_window_bytes_ = 100;
  client_window_bytes_ = 0;  // as a revision-4 client: no header
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->accepted());
  EXPECT_FALSE(open_->header("Natsrpc-Credit-Bytes").has_value());
  for (const auto& m : transport_->sent()) {
    if (Header(m, "Natsrpc-Stream") != "accept") continue;
    EXPECT_EQ(Header(m, "Natsrpc-Credit"), "2");
    EXPECT_EQ(Header(m, "Natsrpc-Credit-Bytes"), std::nullopt);
  }
  EXPECT_EQ(server_->window(), 2u);
  EXPECT_EQ(server_->window_bytes(), 0u);
}

TEST_F(StreamSessionTest, ServerWithoutByteCreditKeepsTheClientAtRevision4) {
  server_window_bytes_ = 0;  // as a revision-4 server: no header in accept
  client_window_ = 8;
  client_legacy_window_ = 2;
  client_window_bytes_ = 50;
  StartBob();
  auto stream = OpenStream("Chat", /*sends=*/true);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->accepted());
  EXPECT_EQ(stream->endpoint()->window(), 2u);
  EXPECT_EQ(stream->endpoint()->window_bytes(), 0u);
}

TEST_F(StreamSessionTest, MalformedCreditBytesOnOpenIsRefused) {
  absl::Status status;
  auto sub = transport_->Subscribe(
      "requests.alice.bob.app.Room.Chat", "", [&](MessagePtr m) {
        auto parts = wire::ParseRequestSubject(m->subject());
        ASSERT_TRUE(parts.ok());
        ServerStreamParams p;
        p.window_bytes = 100;
        status = AcceptStream(transport_, table_, *m, *parts, p).status();
      });
  ASSERT_TRUE(sub.ok());
  transport_->Inject(InMemoryTransport::Sent{
      "requests.alice.bob.app.Room.Chat",
      "responses.alice.bob.app.cid.1",
      {{"Natsrpc-Stream", "open"},
       {"Natsrpc-Credit", "2"},
       {"Natsrpc-Credit-Bytes", "-1"}},
      ""});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("Natsrpc-Credit-Bytes"));
  EXPECT_EQ(table_.open_streams(), 0u);
}

}  // namespace
}  // namespace natsrpc::internal
