// Copyright 2026 The natsrpc Authors.
//
// The stream core and routing pieces over a real nats-server that enforces
// exactly the four grants of docs/protocol.md section 2. The open/accept
// handshake is done here by hand, as ServerCore and ReplyMux will do it
// (docs/protocol.md section 9.3); the test shows every stream subject is
// inside the grants and that credit, end counts and cancel work end to end.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "stream/stream_endpoint.h"
#include "stream/server_stream_table.h"

namespace natsrpc::internal {
namespace {

constexpr char kConfig[] = R"(
authorization {
  users: [
    {user: alice, password: a, permissions: {
      publish: {allow: ["requests.alice.>"]}
      subscribe: {allow: ["responses.alice.>"]}}}
    {user: bob, password: b, permissions: {
      subscribe: {allow: ["requests.*.bob.>"]}
      publish: {allow: ["responses.*.bob.>"]}}}
  ]
}
)";

// A non-owning shared_ptr: the Connection keeps the transport alive.
std::shared_ptr<Transport> Borrow(const Connection& c) {
  return std::shared_ptr<Transport>(std::shared_ptr<void>(), &c.transport());
}

class PermissionLog {
 public:
  void Attach(Transport& t) {
    t.AddEventListener([this](const TransportEvent& e) {
      if (e.kind != TransportEvent::Kind::kPermissionDenied) return;
      absl::MutexLock lock(&mu_);
      denied_.push_back(e.subject);
    });
  }
  // Waits (bounded) until `subject` was refused.
  bool WaitDenied(absl::string_view subject, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto seen = [&] {
      mu_.AssertHeld();
      for (const std::string& d : denied_) {
        if (d == subject) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  }
  std::vector<std::string> denied() {
    absl::MutexLock lock(&mu_);
    return denied_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> denied_;
};

class StreamIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::NatsServer::Options options;
    options.config = kConfig;
    auto nats = testing::NatsServer::Start(options);
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    auto alice = Connect({.url = nats_->url(), .user = "alice", .password = "a"});
    ASSERT_TRUE(alice.ok()) << alice.status();
    alice_.emplace(*std::move(alice));
    auto bob = Connect({.url = nats_->url(), .user = "bob", .password = "b"});
    ASSERT_TRUE(bob.ok()) << bob.status();
    bob_.emplace(*std::move(bob));
    log_.Attach(alice_->transport());
    log_.Attach(bob_->transport());
  }

  void TearDown() override {
    subs_.clear();
    if (handler_.joinable()) handler_.join();
  }

  // bob's instance: accepts bidi streams of Room.Chat and echoes each message
  // back, then ends with OK.
  void StartBob() {
    auto open = bob_->transport().Subscribe(
        wire::ServiceWildcard("bob", "app", "Room"), wire::DefaultQueueGroup("bob", "app"),
        [this](MessagePtr m) { OnOpen(std::move(m)); });
    ASSERT_TRUE(open.ok()) << open.status();
    subs_.push_back(*std::move(open));
    auto streams = bob_->transport().Subscribe(
        wire::StreamWildcard("bob", "app", table_.instance_id()), "",
        [this](MessagePtr m) { table_.RouteStreamMessage(std::move(m)); });
    ASSERT_TRUE(streams.ok()) << streams.status();
    subs_.push_back(*std::move(streams));
    auto cancels = bob_->transport().Subscribe(
        wire::CancelWildcard("bob", "app", "Room"), "",
        [this](MessagePtr m) { table_.RouteCancel(*m); });
    ASSERT_TRUE(cancels.ok()) << cancels.status();
    subs_.push_back(*std::move(cancels));
  }

  void OnOpen(MessagePtr open) {
    auto parts = wire::ParseRequestSubject(open->subject());
    if (!parts.ok() || !wire::CheckReplySubject(open->reply(), *parts).ok() ||
        open->header(wire::kStreamHeader) != "open") {
      return;
    }
    uint64_t credit = 0;
    if (!wire::ParseSeq(open->header(wire::kCreditHeader).value_or(""), credit)) return;
    StreamEndpointOptions o;
    o.peer_subject = std::string(open->reply());
    o.window = 2;
    o.initial_send_credit = credit;
    o.own_end_ends_stream = true;
    o.silence_code = absl::StatusCode::kCancelled;
    o.on_failure = [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      server_failure_ = s;
    };
    auto endpoint = std::make_shared<StreamEndpoint>(Borrow(*bob_), o);
    std::string stream = table_.AddStream(
        {std::string(parts->requester), std::string(parts->responder),
         std::string(parts->app), std::string(parts->service),
         std::string(parts->method)},
        open->reply(), endpoint);
    std::string window = absl::StrCat(endpoint->window());
    std::string heartbeat = wire::EncodeTimeout(absl::Seconds(5));
    HeaderRef headers[] = {{wire::kStreamHeader, "accept"},
                           {wire::kCreditHeader, window},
                           {wire::kHeartbeatHeader, heartbeat}};
    ASSERT_TRUE(bob_->transport()
                    .Publish(OutgoingMessage{open->reply(), stream, headers,
                                             nullptr, ""})
                    .ok());
    handler_ = std::thread([endpoint] {
      for (;;) {
        StreamRead r = endpoint->Read(absl::Now() + absl::Seconds(30));
        if (r.message == nullptr) {
          if (r.status.ok()) endpoint->WritesDone(absl::OkStatus()).IgnoreError();
          return;
        }
        if (!endpoint->Write(r.message->data(), nullptr,
                             absl::Now() + absl::Seconds(30))
                 .ok()) {
          return;
        }
      }
    });
  }

  // alice's side: opens Room.Chat as call `seq` and returns her endpoint once
  // the accept arrived.
  std::shared_ptr<StreamEndpoint> OpenChat(uint64_t seq) {
    StreamEndpointOptions o;
    o.window = 2;
    o.peer_end_closes_send = true;
    auto endpoint = std::make_shared<StreamEndpoint>(Borrow(*alice_), o);
    auto accepted = std::make_shared<absl::Notification>();
    const std::string open = wire::RequestSubject("alice", "bob", "app", "Room", "Chat");
    auto sub = alice_->transport().Subscribe(
        absl::StrCat("responses.alice.*.*.cid.", seq), "",
        [endpoint, accepted, open](MessagePtr m) {
          if (!accepted->HasBeenNotified()) {
            absl::StatusOr<AcceptInfo> a =
                CheckAccept(*m, open, absl::Seconds(5));
            if (a.ok()) {
              endpoint->SetPeer(a->stream_subject, a->credit);
            } else {
              endpoint->Cancel(a.status());
            }
            accepted->Notify();
            return;
          }
          endpoint->OnMessage(std::move(m));
        });
    EXPECT_TRUE(sub.ok()) << sub.status();
    if (!sub.ok()) return nullptr;
    subs_.push_back(*std::move(sub));
    std::string reply = absl::StrCat(wire::ResponsePrefix("alice", "bob", "app", "cid"), seq);
    std::string window = absl::StrCat(endpoint->window());
    std::string timeout = wire::EncodeTimeout(absl::Seconds(30));
    HeaderRef headers[] = {{wire::kStreamHeader, "open"},
                           {wire::kCreditHeader, window},
                           {wire::kTimeoutHeader, timeout}};
    EXPECT_TRUE(alice_->transport()
                    .Publish(OutgoingMessage{open, reply, headers, nullptr, ""})
                    .ok());
    EXPECT_TRUE(accepted->WaitForNotificationWithTimeout(absl::Seconds(30)));
    return endpoint;
  }

  std::unique_ptr<testing::NatsServer> nats_;
  std::optional<Connection> alice_;
  std::optional<Connection> bob_;
  PermissionLog log_;
  ServerStreamTable table_{wire::NewClientId()};
  absl::Mutex mu_;
  absl::Status server_failure_ ABSL_GUARDED_BY(mu_);
  std::thread handler_;
  std::vector<std::unique_ptr<Subscription>> subs_;
};

TEST_F(StreamIntegrationTest, BidiEchoWithSmallWindowsInsideTheGrants) {
  StartBob();
  std::shared_ptr<StreamEndpoint> chat = OpenChat(1);
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(chat->failure().ok()) << chat->failure();
  constexpr int kCount = 100;
  std::thread writer([chat] {
    for (int i = 1; i <= kCount; ++i) {
      ASSERT_TRUE(chat->Write(absl::StrCat("m", i), nullptr,
                              absl::Now() + absl::Seconds(30))
                      .ok());
    }
    ASSERT_TRUE(chat->WritesDone(absl::OkStatus()).ok());
  });
  int n = 0;
  for (;;) {
    StreamRead r = chat->Read(absl::Now() + absl::Seconds(30));
    if (r.message == nullptr) {
      EXPECT_TRUE(r.status.ok()) << r.status;
      break;
    }
    ++n;
    EXPECT_EQ(r.message->data(), absl::StrCat("m", n));
  }
  writer.join();
  EXPECT_EQ(n, kCount);
  EXPECT_LE(chat->stats().max_buffered, 2u);
  EXPECT_TRUE(chat->finished());
  EXPECT_THAT(log_.denied(), ::testing::IsEmpty());
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(server_failure_.ok()) << server_failure_;
}

TEST_F(StreamIntegrationTest, ClientCancelReachesTheServerHandler) {
  StartBob();
  std::shared_ptr<StreamEndpoint> chat = OpenChat(2);
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(chat->Write("hello", nullptr).ok());
  StreamRead echo = chat->Read(absl::Now() + absl::Seconds(30));
  ASSERT_NE(echo.message, nullptr) << echo.status;
  chat->Cancel();
  // The handler's Read ends with CANCELLED and the handler thread returns.
  handler_.join();
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(server_failure_.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(log_.denied(), ::testing::IsEmpty());
}

TEST_F(StreamIntegrationTest, UnaryCancelSubjectIsAllowedAndRouted) {
  StartBob();
  absl::Notification cancelled;
  table_.AddCall("responses.alice.bob.app.cid.9", [&] { cancelled.Notify(); });
  std::string subject =
      wire::CancelSubject("alice", "bob", "app", "Room", "Chat", "cid", "9");
  HeaderRef headers[] = {{wire::kStreamHeader, "cancel"}};
  ASSERT_TRUE(alice_->transport()
                  .Publish(OutgoingMessage{subject, "", headers, nullptr, ""})
                  .ok());
  EXPECT_TRUE(cancelled.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_THAT(log_.denied(), ::testing::IsEmpty());
  // Control: the log does see refusals. bob may not publish a cancel.
  ASSERT_TRUE(bob_->transport()
                  .Publish(OutgoingMessage{subject, "", headers, nullptr, ""})
                  .ok());
  EXPECT_TRUE(log_.WaitDenied(subject, absl::Seconds(30)));
}

}  // namespace
}  // namespace natsrpc::internal
