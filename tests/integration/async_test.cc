// Copyright 2026 The natsrpc Authors.
//
// Asynchronous unary handlers (natsrpc/async.h) and coroutine calls
// (natsrpc/coro.h) against a real nats-server: a pool of one worker serving
// many calls its handler finishes later from another thread; deadline,
// cancel and shutdown reaching pending calls; a dropped responder; metadata,
// interceptors and method stats as for blocking handlers; and co_await on
// the generated MCo calls.

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "nats_server.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"
#include "test_connect.h"

namespace natsrpc {
namespace {

namespace tv1 = ::natsrpc::testing::v1;

constexpr absl::Duration kWait = absl::Seconds(20);

// Waits until `pred` holds (state another thread changes without telling).
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time end = absl::Now() + kWait;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// Echo keeps every responder (with the request's payload) for the test to
// finish; payload "drop" drops it instead. Fail is left to the blocking
// handler below (AsyncService's default), NotImplemented to nobody.
class AsyncEchoImpl final : public tv1::TestService::AsyncService {
 public:
  struct Pending {
    std::string payload;
    UnaryResponder<tv1::EchoReply> responder;
  };

  void EchoAsync(ServerContext& context, const tv1::EchoRequest& request,
                 UnaryResponder<tv1::EchoReply> responder) override {
    handler_threads.fetch_add(1);
    if (request.payload() == "drop") return;
    if (request.payload() == "throw") throw std::runtime_error("boom");
    if (request.payload() == "metadata") {
      context.AddInitialMetadata("x-initial", "i");
      context.AddTrailingMetadata("x-trailer", "t");
    }
    absl::MutexLock lock(&mu);
    pending.push_back({request.payload(), std::move(responder)});
  }

  absl::Status Fail(ServerContext&, const tv1::FailRequest& request,
                    tv1::EchoReply&) override {
    return absl::Status(static_cast<absl::StatusCode>(request.code()),
                        request.message());
  }

  size_t num_pending() {
    absl::MutexLock lock(&mu);
    return pending.size();
  }
  // Waits until `n` responders are held, then takes them.
  std::optional<std::deque<Pending>> Take(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return pending.size() >= n;
    };
    if (!mu.AwaitWithTimeout(absl::Condition(&enough), kWait)) {
      return std::nullopt;
    }
    std::deque<Pending> out;
    out.swap(pending);
    return out;
  }

  std::atomic<int> handler_threads{0};
  absl::Mutex mu;
  std::deque<Pending> pending ABSL_GUARDED_BY(mu);
};

tv1::EchoReply ReplyFor(const std::string& payload) {
  tv1::EchoReply reply;
  reply.set_payload(payload);
  return reply;
}

// Records the status each call ended with.
class RecordingInterceptor final : public ServerInterceptor {
 public:
  std::unique_ptr<ServerCallInterceptor> Intercept(const CallInfo&) override {
    struct Call final : ServerCallInterceptor {
      explicit Call(RecordingInterceptor& owner) : owner(owner) {}
      absl::Status OnStart(const Metadata&) override {
        owner.started.fetch_add(1);
        return absl::OkStatus();
      }
      void OnFinish(const absl::Status& status, Metadata& response) override {
        response.emplace_back("x-intercepted", "yes");
        absl::MutexLock lock(&owner.mu);
        owner.finished.push_back(status);
      }
      RecordingInterceptor& owner;
    };
    return std::make_unique<Call>(*this);
  }
  std::vector<absl::Status> Finished() {
    absl::MutexLock lock(&mu);
    return finished;
  }

  std::atomic<int> started{0};
  absl::Mutex mu;
  std::vector<absl::Status> finished ABSL_GUARDED_BY(mu);
};

class AsyncTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::NatsServer>> s =
        testing::NatsServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    nats_ = s->release();
  }
  static void TearDownTestSuite() {
    delete nats_;
    nats_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(nats_, nullptr);
    conn_ = Connect();
    server_conn_ = Connect();
    ASSERT_NE(conn_, nullptr);
    ASSERT_NE(server_conn_, nullptr);
  }
  static std::unique_ptr<Connection> Connect() {
    absl::StatusOr<Connection> c =
        testing::ConnectForTest(ConnectOptions{.url = nats_->url()});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::make_unique<Connection>(*c) : nullptr;
  }
  // A server of one worker serving `impl`.
  std::unique_ptr<Server> Serve(
      Service& impl, std::shared_ptr<ServerInterceptor> interceptor = nullptr) {
    ServerOptions options{.responder = "bob", .num_workers = 1};
    if (interceptor != nullptr) options.interceptors.push_back(interceptor);
    auto server = std::make_unique<Server>(*server_conn_, std::move(options));
    EXPECT_TRUE(server->AddService(impl).ok());
    return server;
  }
  tv1::TestService::Client MakeClient() {
    return tv1::TestService::Client(*conn_,
                                    {.requester = "alice", .responder = "bob"});
  }
  static std::optional<MethodStats> Find(const std::vector<MethodStats>& all,
                                         absl::string_view method) {
    for (const MethodStats& m : all) {
      if (m.method == method) return m;
    }
    return std::nullopt;
  }

  static testing::NatsServer* nats_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<Connection> server_conn_;
};

testing::NatsServer* AsyncTest::nats_ = nullptr;

// The test: with one worker, 200 calls are pending at once (a
// blocking handler would hold the worker: one at a time), all finished later
// from another thread, all OK within their deadline.
TEST_F(AsyncTest, OneWorkerHolds200PendingCallsFinishedFromAnotherThread) {
  constexpr int kCalls = 200;
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();

  absl::Mutex mu;
  int done = 0;
  std::vector<absl::Status> errors;
  for (int i = 0; i < kCalls; ++i) {
    tv1::EchoRequest req;
    req.set_payload(absl::StrCat("call ", i));
    client.EchoAsync(
        req,
        [&, want = req.payload()](absl::StatusOr<tv1::EchoReply> r) {
          absl::MutexLock lock(&mu);
          ++done;
          if (!r.ok()) {
            errors.push_back(r.status());
          } else if (r->payload() != want) {
            errors.push_back(absl::InternalError(
                absl::StrCat("got ", r->payload(), " for ", want)));
          }
        },
        {.timeout = kWait});
  }
  // Every handler returned with its call pending: the one worker was
  // released at each return.
  std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(kCalls);
  ASSERT_TRUE(pending.has_value())
      << "only " << impl.num_pending() << " of " << kCalls
      << " calls reached the handler while none was finished";
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(done, 0) << "a call ended before its handler finished it";
  }
  EXPECT_EQ(server->method_stats().front().in_flight, uint64_t{kCalls});
  // Finished from another thread, newest first.
  std::thread completer([&] {
    while (!pending->empty()) {
      AsyncEchoImpl::Pending p = std::move(pending->back());
      pending->pop_back();
      EXPECT_TRUE(p.responder.Finish(ReplyFor(p.payload)));
      EXPECT_FALSE(p.responder.Finish(ReplyFor("twice")));
    }
  });
  completer.join();
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](int* d) { return *d == kCalls; }, &done),
                            kWait))
        << done << " of " << kCalls << " calls ended";
    EXPECT_TRUE(errors.empty())
        << errors.size() << " failed, first " << errors.front();
  }
  std::optional<MethodStats> echo = Find(server->method_stats(), "Echo");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->calls, uint64_t{kCalls});
  EXPECT_EQ(echo->ok, uint64_t{kCalls});
  EXPECT_EQ(echo->in_flight, 0u);
  EXPECT_EQ(server->stats().requests_handled, uint64_t{kCalls});
}

TEST_F(AsyncTest, DeadlineReachesAPendingCall) {
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();
  tv1::EchoRequest req;
  req.set_payload("slow");
  absl::StatusOr<tv1::EchoReply> r =
      client.Echo(req, {.timeout = absl::Milliseconds(300)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(1);
  ASSERT_TRUE(pending.has_value());
  UnaryResponder<tv1::EchoReply>& responder = pending->front().responder;
  absl::Notification cancelled;
  responder.OnCancel([&] { cancelled.Notify(); });
  // The server's deadline (arrival + the timeout) passes just after the
  // caller's.
  ASSERT_TRUE(cancelled.WaitForNotificationWithTimeout(kWait))
      << "the deadline did not reach the pending call";
  EXPECT_TRUE(responder.context().IsCancelled());
  EXPECT_TRUE(responder.IsCancelled());
  EXPECT_FALSE(responder.Finish(ReplyFor("late")));  // harmless
  std::optional<MethodStats> echo = Find(server->method_stats(), "Echo");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->errors[absl::StatusCode::kDeadlineExceeded], 1u);
  EXPECT_EQ(echo->in_flight, 0u);
}

TEST_F(AsyncTest, CancelReachesAPendingCall) {
  AsyncEchoImpl impl;
  auto interceptor = std::make_shared<RecordingInterceptor>();
  std::unique_ptr<Server> server = Serve(impl, interceptor);
  tv1::TestService::Client client = MakeClient();
  tv1::EchoRequest req;
  req.set_payload("cancel me");
  absl::Notification ended;
  absl::Status status;
  CallHandle handle = client.EchoAsync(req,
                                       [&](absl::StatusOr<tv1::EchoReply> r) {
                                         status = r.status();
                                         ended.Notify();
                                       },
                                       {.timeout = kWait});
  std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(1);
  ASSERT_TRUE(pending.has_value());
  UnaryResponder<tv1::EchoReply>& responder = pending->front().responder;
  absl::Notification cancelled;
  responder.OnCancel([&] { cancelled.Notify(); });
  ASSERT_TRUE(handle.Cancel());
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(cancelled.WaitForNotificationWithTimeout(kWait))
      << "the cancel did not reach the pending call";
  EXPECT_TRUE(responder.context().IsCancelled());
  EXPECT_FALSE(responder.Finish(ReplyFor("late")));
  // OnCancel after the fact runs at once.
  bool ran = false;
  responder.OnCancel([&] { ran = true; });
  EXPECT_TRUE(ran);
  ASSERT_EQ(interceptor->Finished().size(), 1u);
  EXPECT_EQ(interceptor->Finished()[0].code(), absl::StatusCode::kCancelled);
  EXPECT_GE(server->stats().cancelled, 1u);
  std::optional<MethodStats> echo = Find(server->method_stats(), "Echo");
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->errors[absl::StatusCode::kCancelled], 1u);
}

TEST_F(AsyncTest, ADroppedResponderAnswersInternal) {
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();
  tv1::EchoRequest req;
  req.set_payload("drop");
  absl::StatusOr<tv1::EchoReply> r = client.Echo(req, {.timeout = kWait});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "TestService.Echo dropped its responder"))
      << r.status();
  // An exception leaving the handler: UNKNOWN, as for a blocking handler.
  req.set_payload("throw");
  r = client.Echo(req, {.timeout = kWait});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnknown) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "TestService.Echo threw"))
      << r.status();
}

TEST_F(AsyncTest, MetadataInterceptorsAndErrorsAsForBlockingHandlers) {
  AsyncEchoImpl impl;
  auto interceptor = std::make_shared<RecordingInterceptor>();
  std::unique_ptr<Server> server = Serve(impl, interceptor);
  tv1::TestService::Client client = MakeClient();

  tv1::EchoRequest req;
  req.set_payload("metadata");
  ClientContext context;
  absl::Notification ended;
  absl::StatusOr<tv1::EchoReply> result;
  client.EchoAsync(req,
                   [&](absl::StatusOr<tv1::EchoReply> r) {
                     result = std::move(r);
                     ended.Notify();
                   },
                   {.timeout = kWait, .context = &context});
  std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(1);
  ASSERT_TRUE(pending.has_value());
  std::thread([p = std::move(pending->front())]() mutable {
    p.responder.Finish(absl::FailedPreconditionError("not now\nreally"));
  }).join();
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(result.status(), absl::FailedPreconditionError("not now\nreally"));
  const Metadata& initial = context.GetServerInitialMetadata();
  EXPECT_NE(std::find(initial.begin(), initial.end(),
                      std::pair<std::string, std::string>("x-initial", "i")),
            initial.end());
  EXPECT_NE(
      std::find(initial.begin(), initial.end(),
                std::pair<std::string, std::string>("x-intercepted", "yes")),
      initial.end());
  const Metadata& trailing = context.GetServerTrailingMetadata();
  EXPECT_NE(std::find(trailing.begin(), trailing.end(),
                      std::pair<std::string, std::string>("x-trailer", "t")),
            trailing.end());
  EXPECT_EQ(interceptor->started.load(), 1);
  ASSERT_EQ(interceptor->Finished().size(), 1u);
  EXPECT_EQ(interceptor->Finished()[0].code(),
            absl::StatusCode::kFailedPrecondition);

  // Not overridden: AsyncService runs the blocking Fail, or UNIMPLEMENTED.
  tv1::FailRequest fail;
  fail.set_code(static_cast<int>(absl::StatusCode::kNotFound));
  fail.set_message("nothing here");
  EXPECT_EQ(client.Fail(fail).status(), absl::NotFoundError("nothing here"));
  EXPECT_EQ(client.NotImplemented(tv1::EchoRequest()).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(AsyncTest, ShutdownEndsPendingCallsWithUnavailable) {
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();
  tv1::EchoRequest req;
  req.set_payload("pending");
  absl::Notification ended;
  absl::Status status;
  client.EchoAsync(req,
                   [&](absl::StatusOr<tv1::EchoReply> r) {
                     status = r.status();
                     ended.Notify();
                   },
                   {.timeout = kWait});
  std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(1);
  ASSERT_TRUE(pending.has_value());
  server->Shutdown();
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(pending->front().responder.IsCancelled());
  EXPECT_FALSE(pending->front().responder.Finish(ReplyFor("late")));
  server.reset();
  // After the server is gone too.
  EXPECT_FALSE(pending->front().responder.Finish(ReplyFor("later")));
}

// A minimal coroutine type: runs eagerly, records its end.
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

Task AddTwice(tv1::TestService::Client& client, std::string payload,
              absl::StatusOr<tv1::EchoReply>& first,
              absl::StatusOr<tv1::EchoReply>& second,
              absl::Notification& done) {
  tv1::EchoRequest req;
  req.set_payload(payload);
  // Named options: GCC 12 miscompiles a temporary one here (natsrpc/coro.h).
  const CallOptions options{.timeout = kWait};
  first = co_await client.EchoCo(req, options);
  req.set_payload(payload + payload);
  second = co_await client.EchoCo(req, options);
  done.Notify();
}

Task FailOnce(tv1::TestService::Client& client,
              absl::StatusOr<tv1::EchoReply>& result,
              absl::Notification& done) {
  tv1::FailRequest req;
  req.set_code(static_cast<int>(absl::StatusCode::kPermissionDenied));
  req.set_message("no");
  result = co_await client.FailCo(req);
  done.Notify();
}

TEST_F(AsyncTest, CoroutineCallsResumeWithTheResult) {
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();
  absl::StatusOr<tv1::EchoReply> first, second;
  absl::Notification done;
  AddTwice(client, "co", first, second, done);
  // The handler holds each call: the coroutine waits, suspended.
  for (const char* want : {"co", "coco"}) {
    std::optional<std::deque<AsyncEchoImpl::Pending>> pending = impl.Take(1);
    ASSERT_TRUE(pending.has_value());
    EXPECT_FALSE(done.HasBeenNotified());
    EXPECT_EQ(pending->front().payload, want);
    pending->front().responder.Finish(ReplyFor(pending->front().payload));
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->payload(), "co");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->payload(), "coco");

  absl::StatusOr<tv1::EchoReply> failed;
  absl::Notification failed_done;
  FailOnce(client, failed, failed_done);
  ASSERT_TRUE(failed_done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(failed.status(), absl::PermissionDeniedError("no"));
}

TEST_F(AsyncTest, CoroutineCallEndsAtItsDeadlineAndOnAClientError) {
  AsyncEchoImpl impl;
  std::unique_ptr<Server> server = Serve(impl);
  tv1::TestService::Client client = MakeClient();
  auto timed_out = [&]() -> std::optional<absl::Status> {
    absl::StatusOr<tv1::EchoReply> result;
    absl::Notification done;
    [](tv1::TestService::Client& c, absl::StatusOr<tv1::EchoReply>& out,
       absl::Notification& n) -> Task {
      tv1::EchoRequest req;
      req.set_payload("never");
      const CallOptions options{.timeout = absl::Milliseconds(100)};
      out = co_await c.EchoCo(req, options);
      n.Notify();
    }(client, result, done);
    if (!done.WaitForNotificationWithTimeout(kWait)) return std::nullopt;
    return result.status();
  }();
  ASSERT_TRUE(timed_out.has_value());
  EXPECT_EQ(timed_out->code(), absl::StatusCode::kDeadlineExceeded);

  // An error known before the call is sent: no suspension at all.
  tv1::TestService::Client bad(*conn_,
                               {.requester = "bad.name", .responder = "bob"});
  absl::StatusOr<tv1::EchoReply> result;
  absl::Notification done;
  [](tv1::TestService::Client& c, absl::StatusOr<tv1::EchoReply>& out,
     absl::Notification& n) -> Task {
    const tv1::EchoRequest req;
    out = co_await c.EchoCo(req);
    n.Notify();
  }(bad, result, done);
  EXPECT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();
}

}  // namespace
}  // namespace natsrpc

int main(int argc, char** argv) {
  natsrpc::testing::ParseTestConnectFlags(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
