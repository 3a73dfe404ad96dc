// Copyright 2026 The natsrpc Authors.
//
// Unit tests of the stream routing pieces
// (runtime/src/stream/server_stream_table.h): the server instance's stream and
// cancel tables, the client's accept check and the ticker.

#include "stream/server_stream_table.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"

namespace natsrpc::internal {
namespace {

using ::natsrpc::testing::InMemoryTransport;
using ::testing::HasSubstr;

constexpr absl::string_view kOpen = "requests.alice.bob.app.Svc.Chat";
constexpr absl::string_view kReplyTo = "responses.alice.bob.app.cid.7";

class FakeMessage final : public IncomingMessage {
 public:
  FakeMessage(std::string subject, std::string reply, Metadata headers,
              bool no_responders = false)
      : subject_(std::move(subject)),
        reply_(std::move(reply)),
        headers_(std::move(headers)),
        no_responders_(no_responders) {}
  absl::string_view subject() const override { return subject_; }
  absl::string_view reply() const override { return reply_; }
  absl::string_view data() const override { return ""; }
  std::optional<absl::string_view> header(
      absl::string_view key) const override {
    for (const auto& [k, v] : headers_) {
      if (k == key) return absl::string_view(v);
    }
    return std::nullopt;
  }
  Metadata headers() const override { return headers_; }
  bool is_no_responders() const override { return no_responders_; }

 private:
  std::string subject_, reply_;
  Metadata headers_;
  bool no_responders_;
};

StreamOrigin Origin() { return {"alice", "bob", "app", "Svc", "Chat"}; }

class ServerStreamTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = transport_->Subscribe(
        wire::StreamWildcard("bob", "app", "I1"), "",
        [this](MessagePtr m) { table_.RouteStreamMessage(std::move(m)); });
    ASSERT_TRUE(s.ok());
    stream_sub_ = *std::move(s);
    auto c =
        transport_->Subscribe(wire::CancelWildcard("bob", "app", "Svc"), "",
                              [this](MessagePtr m) { table_.RouteCancel(*m); });
    ASSERT_TRUE(c.ok());
    cancel_sub_ = *std::move(c);
  }

  std::shared_ptr<StreamEndpoint> ServerEndpoint() {
    StreamEndpointOptions o;
    o.peer_subject = std::string(kReplyTo);
    o.window = 4;
    o.initial_send_credit = 4;
    o.on_failure = [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      failures_.push_back(s);
    };
    return std::make_shared<StreamEndpoint>(transport_, std::move(o));
  }

  void Publish(absl::string_view subject, Metadata headers) {
    transport_->Inject(
        InMemoryTransport::Sent{std::string(subject), "", headers, "x"});
  }

  std::shared_ptr<InMemoryTransport> transport_ =
      std::make_shared<InMemoryTransport>();
  ServerStreamTable table_{"I1"};
  std::unique_ptr<Subscription> stream_sub_;
  std::unique_ptr<Subscription> cancel_sub_;
  absl::Mutex mu_;
  std::vector<absl::Status> failures_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ServerStreamTableTest, RoutesOnlyTheOpenersMessagesToTheStream) {
  auto server = ServerEndpoint();
  std::string subject = table_.AddStream(Origin(), kReplyTo, server);
  EXPECT_EQ(subject, "requests.alice.bob.app.Svc.Chat.I1.1");
  EXPECT_EQ(table_.open_streams(), 1u);
  Metadata msg = {{"Natsrpc-Stream", "msg"}, {"Natsrpc-Seq", "1"}};
  Publish(subject, msg);
  StreamRead r = server->Read(absl::InfinitePast());
  ASSERT_NE(r.message, nullptr) << r.status;
  // carol cannot reach alice's stream, nor can another method, nor an
  // unknown stream id.
  Publish("requests.carol.bob.app.Svc.Chat.I1.1", msg);
  Publish("requests.alice.bob.app.Svc.Other.I1.1", msg);
  Publish("requests.alice.bob.app.Svc.Chat.I1.2", msg);
  EXPECT_EQ(table_.stats().routed, 1u);
  EXPECT_EQ(table_.stats().dropped_unknown, 3u);
  EXPECT_EQ(server->stats().received, 1u);
  // Another instance's subject is not even delivered.
  Publish("requests.alice.bob.app.Svc.Chat.I2.1", msg);
  EXPECT_EQ(table_.stats().dropped_unknown, 3u);
  // A second stream gets a new id.
  EXPECT_EQ(table_.AddStream(Origin(), "responses.alice.bob.app.cid.8",
                             ServerEndpoint()),
            "requests.alice.bob.app.Svc.Chat.I1.2");
}

TEST_F(ServerStreamTableTest, CancelReachesTheUnaryCallOnce) {
  int cancelled = 0;
  table_.AddCall("responses.alice.bob.app.cid.3", [&] { ++cancelled; });
  // carol names alice's call: the reply-to differs, nothing happens.
  Publish("requests.carol.bob.app.Svc.Add.cancel.cid.3", {});
  EXPECT_EQ(cancelled, 0);
  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "3"),
          {});
  EXPECT_EQ(cancelled, 1);
  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "3"),
          {});
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(table_.stats().cancels_applied, 1u);
  EXPECT_EQ(table_.stats().cancels_unknown, 2u);
  // A call that ended is no longer cancellable.
  table_.AddCall("responses.alice.bob.app.cid.4", [&] { ++cancelled; });
  table_.RemoveCall("responses.alice.bob.app.cid.4");
  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "4"),
          {});
  EXPECT_EQ(cancelled, 1);
}

TEST_F(ServerStreamTableTest, CancelBeforeAcceptReachesTheStream) {
  auto server = ServerEndpoint();
  table_.AddStream(Origin(), kReplyTo, server);
  // Same call, wrong method: ignored.
  Publish(
      wire::CancelSubject("alice", "bob", "app", "Svc", "Other", "cid", "7"),
      {});
  EXPECT_TRUE(server->failure().ok());
  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Chat", "cid", "7"),
          {});
  EXPECT_EQ(server->failure().code(), absl::StatusCode::kCancelled);
  {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(failures_.size(), 1u);  // the handler's context is cancelled
  }
  // Nothing is sent back to the client.
  for (const auto& m : transport_->sent()) {
    EXPECT_NE(m.subject, kReplyTo);
  }
  // The failed stream is forgotten at the next tick.
  table_.TickAll();
  EXPECT_EQ(table_.open_streams(), 0u);
}

// A call's request (or stream open) and its cancel arrive on two
// subscriptions with two delivery threads: the cancel may come first. It is
// remembered and applied when the call arrives (protocol 9.8).
TEST_F(ServerStreamTableTest, CancelBeforeTheCallIsAppliedWhenItArrives) {
  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid", "3"),
          {});
  EXPECT_EQ(table_.early_cancels(), 1u);
  int cancelled = 0;
  table_.AddCall("responses.alice.bob.app.cid.3", [&] { ++cancelled; });
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(table_.stats().cancels_applied_early, 1u);
  EXPECT_EQ(table_.early_cancels(), 0u);
  // Another call is not affected.
  table_.AddCall("responses.alice.bob.app.cid.4", [&] { ++cancelled; });
  EXPECT_EQ(cancelled, 1);
}

TEST_F(ServerStreamTableTest, CancelBeforeTheOpenEndsTheStream) {
  // A cancel naming another method does not end the stream.
  Publish(
      wire::CancelSubject("alice", "bob", "app", "Svc", "Other", "cid", "7"),
      {});
  auto other = ServerEndpoint();
  table_.AddStream(Origin(), kReplyTo, other);
  EXPECT_TRUE(other->failure().ok());
  table_.RemoveStream("requests.alice.bob.app.Svc.Chat.I1.1");

  Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Chat", "cid", "8"),
          {});
  auto server = ServerEndpoint();
  table_.AddStream(Origin(), "responses.alice.bob.app.cid.8", server);
  EXPECT_EQ(server->failure().code(), absl::StatusCode::kCancelled);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(failures_.size(), 1u);  // the handler's context is cancelled
}

// Cancels for calls that never come do not grow memory without bound.
TEST_F(ServerStreamTableTest, RememberedCancelsAreBounded) {
  for (int i = 0; i < 25000; ++i) {
    Publish(wire::CancelSubject("alice", "bob", "app", "Svc", "Add", "cid",
                                absl::StrCat(i)),
            {});
  }
  EXPECT_LE(table_.early_cancels(), ServerStreamTable::kMaxEarlyCancels);
  EXPECT_EQ(table_.stats().cancels_remembered, 25000u);
  // The newest are still remembered, the oldest forgotten.
  int cancelled = 0;
  table_.AddCall("responses.alice.bob.app.cid.24999", [&] { ++cancelled; });
  table_.AddCall("responses.alice.bob.app.cid.0", [&] { cancelled += 10; });
  EXPECT_EQ(cancelled, 1);
}

TEST_F(ServerStreamTableTest, TickAllForgetsFinishedStreams) {
  StreamEndpointOptions o;
  o.peer_subject = std::string(kReplyTo);
  o.receives = false;
  auto server = std::make_shared<StreamEndpoint>(transport_, std::move(o));
  table_.AddStream(Origin(), kReplyTo, server);
  table_.TickAll();
  EXPECT_EQ(table_.open_streams(), 1u);
  ASSERT_TRUE(server->WritesDone(absl::OkStatus()).ok());
  table_.TickAll();
  EXPECT_EQ(table_.open_streams(), 0u);
}

TEST(CancelTargetTest, Parses) {
  EXPECT_EQ(
      *wire::CancelTargetReplyTo("requests.alice.bob.app.Svc.Add.cancel.c.3"),
      "responses.alice.bob.app.c.3");
  EXPECT_FALSE(
      wire::CancelTargetReplyTo("requests.alice.bob.app.Svc.Add").ok());
  EXPECT_FALSE(
      wire::CancelTargetReplyTo("requests.alice.bob.app.Svc.Add.kill.c.3")
          .ok());
  EXPECT_FALSE(
      wire::CancelTargetReplyTo("requests.alice.bob.app.Svc.Add.cancel.c.")
          .ok());
}

TEST(CheckAcceptTest, Accept) {
  FakeMessage m(std::string(kReplyTo), "requests.alice.bob.app.Svc.Chat.I1.5",
                {{"Natsrpc-Stream", "accept"},
                 {"Natsrpc-Credit", "8"},
                 {"Natsrpc-Heartbeat", "2S"}});
  absl::StatusOr<AcceptInfo> a = CheckAccept(m, kOpen, absl::Seconds(5));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->stream_subject, "requests.alice.bob.app.Svc.Chat.I1.5");
  EXPECT_EQ(a->credit, 8u);
  EXPECT_EQ(a->heartbeat, absl::Seconds(2));
  FakeMessage no_hb(std::string(kReplyTo),
                    "requests.alice.bob.app.Svc.Chat.I1.5",
                    {{"Natsrpc-Stream", "accept"}, {"Natsrpc-Credit", "0"}});
  a = CheckAccept(no_hb, kOpen, absl::Seconds(5));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->heartbeat, absl::Seconds(5));
}

TEST(CheckAcceptTest, RefusalsAndNoResponders) {
  FakeMessage end(std::string(kReplyTo), "",
                  {{"Natsrpc-Stream", "end"},
                   {"Natsrpc-Count", "0"},
                   {"Nats-Service-Error-Code", "8"},
                   {"Nats-Service-Error", "too many streams"}});
  absl::Status s = CheckAccept(end, kOpen, absl::Seconds(5)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "too many streams");
  // A v1 server answers like a unary call: UNIMPLEMENTED, naming what the
  // reply said.
  FakeMessage v1(std::string(kReplyTo), "",
                 {{"Nats-Service-Error-Code", "3"},
                  {"Nats-Service-Error", "bad timeout"}});
  absl::Status v1_status = CheckAccept(v1, kOpen, absl::Seconds(5)).status();
  EXPECT_EQ(v1_status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(v1_status.message()), HasSubstr("bad timeout"));
  FakeMessage no_responders(std::string(kReplyTo), "", {}, true);
  EXPECT_EQ(CheckAccept(no_responders, kOpen, absl::Seconds(5)).status().code(),
            absl::StatusCode::kUnavailable);
  // A v1 server with a unary method of that name answers OK: the stream
  // fails UNIMPLEMENTED, never "ended OK".
  FakeMessage ok_reply(std::string(kReplyTo), "",
                       {{"Content-Type", "application/protobuf"}});
  EXPECT_EQ(CheckAccept(ok_reply, kOpen, absl::Seconds(5)).status().code(),
            absl::StatusCode::kUnimplemented);
  // An end without an error is no accept either.
  FakeMessage ok_end(std::string(kReplyTo), "",
                     {{"Natsrpc-Stream", "end"}, {"Natsrpc-Count", "0"}});
  EXPECT_EQ(CheckAccept(ok_end, kOpen, absl::Seconds(5)).status().code(),
            absl::StatusCode::kInternal);
}

TEST(CheckAcceptTest, RefusesForeignOrMalformedStreamSubjects) {
  for (const char* bad : {
           "requests.alice.carol.app.Svc.Chat.I1.5",  // another responder
           "requests.alice.bob.app.Svc.Other.I1.5",   // another method
           "requests.alice.bob.app.Svc.Chat.cancel.5",
           "requests.alice.bob.app.Svc.Chat.I1",
           "requests.alice.bob.app.Svc.Chat.I1.5.6",
           "",
       }) {
    FakeMessage m(std::string(kReplyTo), bad,
                  {{"Natsrpc-Stream", "accept"}, {"Natsrpc-Credit", "8"}});
    absl::Status s = CheckAccept(m, kOpen, absl::Seconds(5)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << bad;
  }
  FakeMessage no_credit(std::string(kReplyTo),
                        "requests.alice.bob.app.Svc.Chat.I1.5",
                        {{"Natsrpc-Stream", "accept"}});
  EXPECT_THAT(
      CheckAccept(no_credit, kOpen, absl::Seconds(5)).status().message(),
      HasSubstr("Natsrpc-Credit"));
  FakeMessage bad_hb(std::string(kReplyTo),
                     "requests.alice.bob.app.Svc.Chat.I1.5",
                     {{"Natsrpc-Stream", "accept"},
                      {"Natsrpc-Credit", "8"},
                      {"Natsrpc-Heartbeat", "0n"}});
  EXPECT_EQ(CheckAccept(bad_hb, kOpen, absl::Seconds(5)).status().code(),
            absl::StatusCode::kInternal);
}

TEST(NegotiateHeartbeatTest, RaisesToServerMinimum) {
  EXPECT_EQ(NegotiateHeartbeat("10S", absl::Seconds(1)), absl::Seconds(10));
  EXPECT_EQ(NegotiateHeartbeat("100m", absl::Seconds(1)), absl::Seconds(1));
  EXPECT_EQ(NegotiateHeartbeat(std::nullopt, absl::Seconds(1)),
            absl::Seconds(1));
  EXPECT_EQ(NegotiateHeartbeat("junk", absl::Seconds(1)), absl::Seconds(1));
}

}  // namespace
}  // namespace natsrpc::internal
