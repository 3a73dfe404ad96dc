// Copyright 2026 The natsrpc Authors.
//
// Regression tests of the server's lifetime bugs (issue 9): a failed
// AddService, a subscription NATS refuses, and stream handler threads that
// outlived Shutdown(). They use only the server's public API and the
// in-memory transport's fault hooks (tests/support/in_memory_transport.h),
// so that they also build against the runtime before the fixes.

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using ::testing::HasSubstr;
using testing::InMemoryTransport;

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
    RegisterMethod("Watch", internal::MakeServerStreamHandler<ProtobufCodec>(
                                &Echo::Watch));
  }
  absl::Status Say(ServerContext&, const StringValue& req, StringValue& resp) {
    calls.fetch_add(1);
    resp.set_value(req.value());
    return absl::OkStatus();
  }
  // Sends until the stream fails (the client reads nothing, so it blocks
  // once the client's window is full, until the stream is cancelled).
  absl::Status Watch(ServerContext&, const StringValue& req,
                     ServerWriter<StringValue, ProtobufCodec>& writer) {
    watching.Notify();
    for (int i = 0; i < 1000000; ++i) {
      if (!writer.Write(req)) break;
    }
    return absl::OkStatus();
  }
  std::atomic<int> calls{0};
  absl::Notification watching;
};

constexpr internal::MethodSpec kMethods[] = {{"Say", absl::ZeroDuration()},
                                             {"Watch", absl::ZeroDuration()}};

// Bug 2: AddService freed the registration its first subscription's
// callback pointed to when a later subscribe failed. A delivery that had
// started before the unsubscribe then read freed memory (ASan:
// heap-use-after-free in OnRequest at reg.methods.find).
TEST(ServerLifetimeTest, DeliveryAfterAFailedAddServiceIsDropped) {
  auto transport = std::make_shared<InMemoryTransport>();
  transport->set_keep_handlers(true);
  int subscribes = 0;
  transport->set_subscribe_hook([&subscribes](absl::string_view) {
    return ++subscribes == 2 ? absl::UnavailableError("injected")
                             : absl::OkStatus();
  });
  Connection conn(transport);
  Echo echo;
  Server server(conn, ServerOptions{.responder = "bob"});
  absl::Status s = server.AddService(echo);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // Nothing half-registered: the first subscription is gone too.
  EXPECT_EQ(transport->subscription_count(), 0u);

  // The first subscription's callback, running late.
  std::vector<std::pair<std::string, Transport::MessageHandler>> handlers =
      transport->kept_handlers();
  ASSERT_FALSE(handlers.empty());
  StringValue req;
  req.set_value("late");
  struct NoBacklog final : Delivery {
    int64_t pending_after() const override { return 0; }
    void SetMayBlock(bool) override {}
  } delivery;
  handlers[0].second(transport->MakeMessage({"requests.alice.bob.unit.Echo.Say",
                                             "responses.alice.bob.unit.c1.1",
                                             {},
                                             req.SerializeAsString()}),
                     delivery);
  // Not served: the service is not registered (and may be gone already).
  EXPECT_EQ(echo.calls.load(), 0);
  EXPECT_TRUE(transport->sent().empty());

  // A clean retry works: no ALREADY_EXISTS from a half registration.
  transport->set_subscribe_hook(nullptr);
  EXPECT_TRUE(server.AddService(echo).ok());
}

// Bug 3 (server half): a subscription NATS refuses fails AddService with
// PERMISSION_DENIED naming the subject, and leaves nothing registered.
TEST(ServerLifetimeTest, RefusedSubscriptionFailsAddServiceNamingTheSubject) {
  auto transport = std::make_shared<InMemoryTransport>();
  transport->set_subscribe_hook([](absl::string_view subject) {
    return absl::StrContains(subject, ".cancel.")
               ? absl::PermissionDeniedError("permissions violation")
               : absl::OkStatus();
  });
  Connection conn(transport);
  Echo echo;
  Server server(conn, ServerOptions{.responder = "bob"});
  absl::Status s = server.AddService(echo);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(s.message(), HasSubstr("requests.*.bob.unit.Echo.*.cancel.*.*"));
  EXPECT_EQ(transport->subscription_count(), 0u);

  // Nobody answers: the caller sees no responders, not a half server.
  internal::ClientChannel channel(conn,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  StringValue req;
  req.set_value("hi");
  absl::StatusOr<StringValue> r =
      internal::BlockingUnaryCall<ProtobufCodec, StringValue>(channel, 0, req,
                                                              {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(echo.calls.load(), 0);

  transport->set_subscribe_hook(nullptr);
  EXPECT_TRUE(server.AddService(echo).ok());
}

// Bug 4: a stream handler ran on a detached thread, which still worked
// (here: released the stream's open message) after the Server was
// destroyed. Now the server owns and joins the thread.
TEST(ServerLifetimeTest, NothingOfAStreamRunsAfterTheServerIsGone) {
  auto transport = std::make_shared<InMemoryTransport>();
  absl::Notification server_gone;
  std::atomic<bool> released_after_server_gone{false};
  absl::Notification released;
  transport->set_on_message_destroyed([&](absl::string_view subject) {
    if (subject != "requests.alice.bob.unit.Echo.Watch") return;
    // Bounded: before the fix, the server is destroyed meanwhile; with it,
    // the server waits for this thread, so the wait runs out.
    if (server_gone.WaitForNotificationWithTimeout(absl::Milliseconds(300))) {
      released_after_server_gone = true;
    }
    released.Notify();
  });
  Connection conn(transport);
  Echo echo;
  auto server =
      std::make_unique<Server>(conn, ServerOptions{.responder = "bob"});
  ASSERT_TRUE(server->AddService(echo).ok());
  internal::ClientChannel channel(conn,
                                  {.requester = "alice", .responder = "bob"},
                                  "Echo", "unit", kMethods);
  StringValue req;
  req.set_value("tick");
  auto reader =
      internal::OpenServerStream<ProtobufCodec, StringValue, StringValue>(
          channel, 1, req, {});
  ASSERT_TRUE(echo.watching.WaitForNotificationWithTimeout(absl::Seconds(10)));

  server.reset();  // Shutdown() and destruction
  server_gone.Notify();
  ASSERT_TRUE(released.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(released_after_server_gone.load());
}

}  // namespace
}  // namespace natsrpc
