// Copyright 2026 The natsrpc Authors.
//
// Lifetime of the client core (issue 9, bug 1): a call's callback may drop
// the last Client and Connection; the call table (runtime/src/client/
// reply_mux.cc) must not touch itself after that. Run under ASan to see a
// regression: the failure is a heap-use-after-free on the timer thread.

#include <memory>
#include <utility>

#include "absl/synchronization/notification.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "in_memory_transport.h"
#include "natsrpc/impl/codegen.h"

namespace natsrpc {
namespace {

using ::google::protobuf::StringValue;
using testing::InMemoryTransport;

class Echo : public Service {
 public:
  Echo() : Service("Echo", "unit") {
    RegisterMethod("Say",
                   internal::MakeUnaryHandler<ProtobufCodec>(&Echo::Say));
  }
  absl::Status Say(ServerContext&, const StringValue& req, StringValue& resp) {
    resp.set_value(req.value());
    return absl::OkStatus();
  }
};

constexpr internal::MethodSpec kMethods[] = {
    {"Say", absl::ZeroDuration(), CallKind::kUnary}};

// What a user's callback lets go of.
struct Owner {
  std::unique_ptr<Connection> conn;
  std::unique_ptr<internal::ClientChannel> channel;
};

enum class Drop { kClient, kClientAndConnection };

// Makes one call to `responder` whose callback drops the client (and the
// connection) it was made on; returns the call's status.
absl::Status CallAndDrop(const std::shared_ptr<Transport>& transport,
                         const std::string& responder, Drop drop) {
  auto owner = std::make_shared<Owner>();
  owner->conn = std::make_unique<Connection>(transport);
  owner->channel = std::make_unique<internal::ClientChannel>(
      *owner->conn, ClientOptions{.requester = "alice", .responder = responder},
      "Echo", "unit", kMethods);
  std::unique_ptr<Connection> kept;
  absl::Status status;
  absl::Notification done;
  internal::ClientChannel& channel = *owner->channel;
  StringValue req;
  req.set_value("x");
  internal::AsyncUnaryCall<ProtobufCodec, StringValue>(
      channel, 0, req,
      [owner = std::move(owner), drop, &kept, &status,
       &done](absl::StatusOr<StringValue> r) mutable {
        status = r.status();
        if (drop == Drop::kClient) kept = std::move(owner->conn);
        owner.reset();  // the last Client (and Connection)
        done.Notify();
      },
      {.timeout = absl::Milliseconds(1)});
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  return status;
}

// Several rounds: the timer thread of one round runs on while the next one
// starts, which gives ASan the time to see it touch a freed call table.
constexpr int kRounds = 20;

TEST(ClientLifetimeTest, TimeoutCallbackDropsLastClientAndConnection) {
  auto transport = std::make_shared<InMemoryTransport>();
  auto silent =
      transport->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  for (int i = 0; i < kRounds; ++i) {
    EXPECT_EQ(
        CallAndDrop(transport, "silent", Drop::kClientAndConnection).code(),
        absl::StatusCode::kDeadlineExceeded);
  }
}

TEST(ClientLifetimeTest, TimeoutCallbackDropsLastClient) {
  auto transport = std::make_shared<InMemoryTransport>();
  auto silent =
      transport->Subscribe("requests.*.silent.>", "", [](MessagePtr) {});
  for (int i = 0; i < kRounds; ++i) {
    EXPECT_EQ(CallAndDrop(transport, "silent", Drop::kClient).code(),
              absl::StatusCode::kDeadlineExceeded);
  }
}

// The in-memory transport answers on the publishing thread, so the reply's
// callback drops the client while the call is still being started.
TEST(ClientLifetimeTest, ReplyCallbackDropsLastClientAndConnection) {
  auto transport = std::make_shared<InMemoryTransport>();
  Connection server_conn(transport);
  Server server(server_conn, ServerOptions{.responder = "bob"});
  Echo echo;
  ASSERT_TRUE(server.AddService(echo).ok());
  for (int i = 0; i < kRounds; ++i) {
    // A reply within 1 ms is not guaranteed: either ending is fine, the
    // point is what happens after the callback.
    const absl::Status s =
        CallAndDrop(transport, "bob", Drop::kClientAndConnection);
    EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kDeadlineExceeded) << s;
  }
}

}  // namespace
}  // namespace natsrpc
