// Copyright 2026 The natsrpc Authors.
//
// Instance targeting, retries and wait-for-ready (issue 13, items 3 and 5;
// natsrpc/client.h, docs/protocol.md 2.1) through generated code, on real
// nats-servers each test starts on a free loopback port. The cases are
// typed tests over the calculator service: targeting_retry_test.cc runs
// them with the .proto one (proto/example/v1/calculator.proto),
// tests/fbs/fbs_targeting_retry_test.cc with the .fbs one
// (fbs/example/calculator.fbs). In both, Add is idempotent (the IDL says
// so) and Echo is not.
//
// A Traits type gives:
//   using Calculator = ...;              the generated service
//   static AddRequest Add(a, b);         a request
//   static int64_t Sum(const AddReply&);
//   static EchoMessage Echo(std::string);
//   static std::string Payload(const EchoMessage&);
//   class Impl : Calculator::Service     calling Behaviour::OnAdd / OnEcho

#ifndef NATSRPC_TESTS_INTEGRATION_TARGETING_RETRY_CASES_H_
#define NATSRPC_TESTS_INTEGRATION_TARGETING_RETRY_CASES_H_

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"

namespace natsrpc::targeting {

// The bound on every wait of these tests.
inline constexpr absl::Duration kWait = absl::Seconds(20);

// Waits until `pred` holds, up to `limit`: for state another process or
// thread changes without notifying us (nats-server, a reconnect).
template <typename Pred>
bool Eventually(Pred pred, absl::Duration limit = kWait) {
  const absl::Time end = absl::Now() + limit;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// What a test server does and counts; the Impl of each Traits calls it.
struct Behaviour {
  std::atomic<int> adds{0};
  std::atomic<int> echoes{0};
  // The next this many Adds (Echoes) answer UNAVAILABLE.
  std::atomic<int> failing_adds{0};
  std::atomic<int> failing_echoes{0};

  absl::Status OnAdd() { return Count(adds, failing_adds); }
  absl::Status OnEcho() { return Count(echoes, failing_echoes); }

 private:
  static absl::Status Count(std::atomic<int>& calls,
                            std::atomic<int>& failing) {
    calls.fetch_add(1);
    int n = failing.load();
    while (n > 0 && !failing.compare_exchange_weak(n, n - 1)) {
    }
    if (n > 0) return absl::UnavailableError("busy (the test says so)");
    return absl::OkStatus();
  }
};

// The retries of `method` so far on `conn` (natsrpc/metrics.h).
inline uint64_t Retries(const Connection& conn, absl::string_view method) {
  for (const ClientMethodStats& m : conn.client_stats().methods) {
    if (m.method == method) return m.retries;
  }
  return 0;
}

// A retry policy that keeps trying quickly (the tests' deadlines bound it).
inline RetryPolicy Persistent(int attempts = 1000) {
  return RetryPolicy{.max_attempts = attempts,
                     .initial_backoff = absl::Milliseconds(10),
                     .max_backoff = absl::Milliseconds(50)};
}

template <typename Traits>
class TargetingRetryTest : public ::testing::Test {
 protected:
  using Calculator = typename Traits::Calculator;
  using Impl = typename Traits::Impl;

  // One server instance: its own connection, service and counters.
  struct Instance {
    Connection conn;
    Impl impl;
    std::unique_ptr<Server> server;
    explicit Instance(Connection c) : conn(std::move(c)) {}
  };

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = *std::move(s);
    absl::StatusOr<Connection> c = Connect(ConnectOptions{.url = nats_->url()});
    ASSERT_TRUE(c.ok()) << c.status();
    conn_.emplace(*c);
  }

  void TearDown() override {
    instances_.clear();
    conn_.reset();
    nats_.reset();
  }

  // Starts a server instance of responder `responder` on a connection of
  // its own.
  Instance& StartInstance(std::string responder = "bob") {
    absl::StatusOr<Connection> c = Connect(ConnectOptions{.url = nats_->url()});
    EXPECT_TRUE(c.ok()) << c.status();
    auto instance = std::make_unique<Instance>(*c);
    instance->server = std::make_unique<Server>(
        instance->conn, ServerOptions{.responder = std::move(responder)});
    EXPECT_TRUE(instance->server->AddService(instance->impl).ok());
    instances_.push_back(std::move(instance));
    return *instances_.back();
  }

  typename Calculator::Client MakeClient(ClientOptions options) {
    options.requester = "alice";
    if (options.responder.empty()) options.responder = "bob";
    return typename Calculator::Client(*conn_, options);
  }

  std::unique_ptr<testing::NatsServer> nats_;
  std::optional<Connection> conn_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

TYPED_TEST_SUITE_P(TargetingRetryTest);

// Item 3: calls addressed to one instance reach it only, and fail at once
// when it is gone; the other instance still serves the queue group.
TYPED_TEST_P(TargetingRetryTest, TargetedCallsReachOneInstance) {
  auto& a = this->StartInstance();
  auto& b = this->StartInstance();
  const std::string a_id = a.server->instance_id();
  const std::string b_id = b.server->instance_id();
  ASSERT_NE(a_id, b_id);

  // ClientOptions::instance: every call of the client.
  auto to_a = this->MakeClient(ClientOptions{.instance = a_id});
  ASSERT_TRUE(to_a.status().ok()) << to_a.status();
  constexpr int kCalls = 40;
  for (int i = 0; i < kCalls; ++i) {
    auto r = to_a.Add(TypeParam::Add(i, 1));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(TypeParam::Sum(*r), i + 1);
  }
  EXPECT_EQ(a.impl.adds.load(), kCalls);
  EXPECT_EQ(b.impl.adds.load(), 0);

  // CallOptions::instance: one call, on a client of the queue group.
  auto any = this->MakeClient(ClientOptions{});
  for (int i = 0; i < kCalls; ++i) {
    auto r = any.Add(TypeParam::Add(i, 2), CallOptions{.instance = b_id});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(a.impl.adds.load(), kCalls);
  EXPECT_EQ(b.impl.adds.load(), kCalls);

  // A bad instance id is the caller's error, named.
  auto bad = any.Add(TypeParam::Add(1, 1), CallOptions{.instance = "a.b"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              ::testing::HasSubstr("CallOptions.instance"));

  // A is gone. Its unsubscribe travels on its own connection: wait
  // (bounded) until nats-server has processed it, then a call with a long
  // deadline must fail at once.
  a.server->Shutdown();
  ASSERT_TRUE(Eventually([&] {
    return to_a.Add(TypeParam::Add(1, 1),
                    CallOptions{.timeout = absl::Milliseconds(200)})
               .status()
               .code() == absl::StatusCode::kUnavailable;
  })) << "calls to the stopped instance never failed UNAVAILABLE";
  const absl::Time start = absl::Now();
  auto gone =
      to_a.Add(TypeParam::Add(1, 1), CallOptions{.timeout = absl::Seconds(30)});
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnavailable)
      << gone.status();
  EXPECT_THAT(gone.status().message(), ::testing::HasSubstr("no responders"));
  EXPECT_THAT(gone.status().message(), ::testing::HasSubstr(a_id));
  EXPECT_LT(took, absl::Seconds(2)) << "UNAVAILABLE took " << took;

  // B serves the queue group alone now.
  const int b_before = b.impl.adds.load();
  for (int i = 0; i < kCalls; ++i) {
    auto r = any.Add(TypeParam::Add(i, 3));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(b.impl.adds.load(), b_before + kCalls);
}

// Item 5: an idempotent method is retried (UNAVAILABLE: no responders)
// until a responder that starts late answers; the handler runs once.
TYPED_TEST_P(TargetingRetryTest, IdempotentCallRetriedUntilResponderComes) {
  auto client = this->MakeClient(
      ClientOptions{.responder = "late", .retry = Persistent()});
  absl::Notification done;
  absl::StatusOr<int64_t> sum = absl::UnknownError("not done");
  client.AddAsync(
      TypeParam::Add(20, 22),
      [&](auto r) {
        sum = r.ok() ? absl::StatusOr<int64_t>(TypeParam::Sum(*r))
                     : absl::StatusOr<int64_t>(r.status());
        done.Notify();
      },
      CallOptions{.timeout = kWait});
  // It has failed and been retried at least once before anyone serves.
  ASSERT_TRUE(Eventually([&] { return Retries(*this->conn_, "Add") >= 2; }));
  EXPECT_FALSE(done.HasBeenNotified());
  auto& late = this->StartInstance("late");
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 42);
  EXPECT_EQ(late.impl.adds.load(), 1);

  // Errors from the server are retried too (UNAVAILABLE by default).
  late.impl.failing_adds = 2;
  auto r = client.Add(TypeParam::Add(1, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(late.impl.adds.load(), 1 + 3);
}

// Item 5: a method the IDL does not mark idempotent is not retried, unless
// the call opts in; the handler invocations are counted.
TYPED_TEST_P(TargetingRetryTest, NonIdempotentCallNotRetried) {
  auto& server = this->StartInstance();
  auto client = this->MakeClient(ClientOptions{.retry = Persistent(3)});
  server.impl.failing_echoes = 100;
  auto r = client.Echo(TypeParam::Echo("once"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(server.impl.echoes.load(), 1);
  EXPECT_EQ(Retries(*this->conn_, "Echo"), 0u);

  // The caller knows better: three attempts, as the policy says.
  r = client.Echo(TypeParam::Echo("thrice"),
                  CallOptions{.retry_non_idempotent = true});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(server.impl.echoes.load(), 1 + 3);
  EXPECT_EQ(Retries(*this->conn_, "Echo"), 2u);

  // Only the policy's codes are retried: INVALID_ARGUMENT is not.
  server.impl.failing_adds = 1;
  auto add = client.Add(
      TypeParam::Add(1, 1),
      CallOptions{.retry = RetryPolicy{
                      .max_attempts = 5,
                      .retryable_codes = {absl::StatusCode::kAborted}}});
  EXPECT_EQ(add.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server.impl.adds.load(), 1);
}

// Item 5: the deadline bounds all attempts: the call ends with the last
// attempt's status once the next backoff would pass it (UNAVAILABLE), or
// when the attempt in flight runs out of the time that remained
// (DEADLINE_EXCEEDED), never much later than the deadline.
TYPED_TEST_P(TargetingRetryTest, DeadlineBoundsAllAttempts) {
  auto& server = this->StartInstance();
  server.impl.failing_adds = 1 << 30;
  auto client = this->MakeClient(ClientOptions{.retry = Persistent()});
  constexpr absl::Duration kTimeout = absl::Milliseconds(500);
  const absl::Time start = absl::Now();
  auto r = client.Add(TypeParam::Add(1, 1), CallOptions{.timeout = kTimeout});
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(r.status().code(),
              ::testing::AnyOf(absl::StatusCode::kUnavailable,
                               absl::StatusCode::kDeadlineExceeded))
      << r.status();
  EXPECT_GT(server.impl.adds.load(), 3);
  // Slack for a loaded machine; 1000 attempts would take many seconds.
  EXPECT_LE(took, kTimeout + absl::Milliseconds(500)) << took;
}

// Item 5: wait_for_ready waits for a responder (re-sending on no
// responders), safe for any method: Echo runs exactly once.
TYPED_TEST_P(TargetingRetryTest, WaitForReadyWaitsForResponder) {
  auto client = this->MakeClient(ClientOptions{.responder = "late"});
  // Without it: at once.
  auto now = client.Echo(TypeParam::Echo("x"),
                         CallOptions{.timeout = absl::Seconds(30)});
  EXPECT_EQ(now.status().code(), absl::StatusCode::kUnavailable);

  // With it, and nobody comes: DEADLINE_EXCEEDED at the deadline.
  const absl::Time start = absl::Now();
  auto nobody = client.Echo(
      TypeParam::Echo("x"),
      CallOptions{.timeout = absl::Milliseconds(300), .wait_for_ready = true});
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kDeadlineExceeded)
      << nobody.status();
  // Why it waited: no responders, or the last attempt still in flight.
  EXPECT_THAT(nobody.status().message(),
              ::testing::AnyOf(::testing::HasSubstr("no responders"),
                               ::testing::HasSubstr("by the deadline")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(290));

  absl::Notification done;
  absl::StatusOr<std::string> echoed = absl::UnknownError("not done");
  const uint64_t retries = Retries(*this->conn_, "Echo");
  client.EchoAsync(
      TypeParam::Echo("late hello"),
      [&](auto r) {
        echoed = r.ok() ? absl::StatusOr<std::string>(TypeParam::Payload(*r))
                        : absl::StatusOr<std::string>(r.status());
        done.Notify();
      },
      CallOptions{.timeout = kWait, .wait_for_ready = true});
  ASSERT_TRUE(
      Eventually([&] { return Retries(*this->conn_, "Echo") >= retries + 2; }));
  EXPECT_FALSE(done.HasBeenNotified());
  auto& late = this->StartInstance("late");
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "late hello");
  EXPECT_EQ(late.impl.echoes.load(), 1);
}

// Item 5: a call made while nats-server is down waits for the reconnect
// (ClientOptions::wait_for_ready) and succeeds after the restart; without
// wait_for_ready it fails at once.
TYPED_TEST_P(TargetingRetryTest, WaitForReadyAcrossNatsServerRestart) {
  auto& server = this->StartInstance();
  auto waits = this->MakeClient(ClientOptions{.wait_for_ready = true});
  auto fails = this->MakeClient(ClientOptions{});
  ASSERT_TRUE(waits.Echo(TypeParam::Echo("before")).ok());

  ASSERT_TRUE(this->nats_->Kill().ok());
  ASSERT_TRUE(Eventually([&] { return !this->conn_->connected(); }))
      << "the client never saw nats-server go";
  auto down = fails.Echo(TypeParam::Echo("down"),
                         CallOptions{.timeout = absl::Seconds(30)});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable)
      << down.status();

  absl::Notification done;
  absl::StatusOr<std::string> echoed = absl::UnknownError("not done");
  const absl::Time sent = absl::Now();
  waits.EchoAsync(
      TypeParam::Echo("across the restart"),
      [&](auto r) {
        echoed = r.ok() ? absl::StatusOr<std::string>(TypeParam::Payload(*r))
                        : absl::StatusOr<std::string>(r.status());
        done.Notify();
      },
      CallOptions{.timeout = kWait});
  EXPECT_FALSE(done.HasBeenNotified());
  ASSERT_TRUE(this->nats_->Restart().ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "across the restart");
  EXPECT_EQ(server.impl.echoes.load(), 2);
  std::cout << "wait_for_ready across a nats-server restart: the call ended "
            << absl::FormatDuration(absl::Now() - sent)
            << " after it was made\n";
}

// A call that waits between attempts ends at once when cancelled, with
// CANCELLED, and runs its callback exactly once.
TYPED_TEST_P(TargetingRetryTest, CancelWhileWaiting) {
  auto client = this->MakeClient(ClientOptions{.responder = "nobody"});
  std::atomic<int> callbacks{0};
  absl::Notification done;
  absl::Status status;
  CallHandle handle = client.AddAsync(
      TypeParam::Add(1, 1),
      [&](auto r) {
        status = r.status();
        callbacks.fetch_add(1);
        done.Notify();
      },
      CallOptions{
          .timeout = kWait, .retry = Persistent(), .wait_for_ready = true});
  ASSERT_TRUE(Eventually([&] { return Retries(*this->conn_, "Add") >= 2; }));
  EXPECT_TRUE(handle.Cancel());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(2)));
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_FALSE(handle.Cancel());
  EXPECT_EQ(callbacks.load(), 1);
}

REGISTER_TYPED_TEST_SUITE_P(TargetingRetryTest, TargetedCallsReachOneInstance,
                            IdempotentCallRetriedUntilResponderComes,
                            NonIdempotentCallNotRetried,
                            DeadlineBoundsAllAttempts,
                            WaitForReadyWaitsForResponder,
                            WaitForReadyAcrossNatsServerRestart,
                            CancelWhileWaiting);

}  // namespace natsrpc::targeting

#endif  // NATSRPC_TESTS_INTEGRATION_TARGETING_RETRY_CASES_H_
