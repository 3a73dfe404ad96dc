// Copyright 2026 The natsrpc Authors.
//
// Shared by the fault, security and hostile-input suites
// (fault_test.cc, security_test.cc, hostile_input_test.cc): a bounded wait,
// a collecting subscription read in order, and a TestService whose Sleep
// watches for cancellation.

#ifndef NATSRPC_TESTS_INTEGRATION_SUITE_SUPPORT_H_
#define NATSRPC_TESTS_INTEGRATION_SUITE_SUPPORT_H_

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "natsrpc/natsrpc.h"
#include "natsrpc/testing/v1/test_service.natsrpc.h"

namespace natsrpc::suites {

namespace tv1 = ::natsrpc::testing::v1;

// The bound on any wait of these suites.
inline constexpr absl::Duration kWait = absl::Seconds(20);

// Waits until `pred` holds, up to `limit`; for state another process or
// thread changes without notifying us.
template <typename Pred>
bool Eventually(Pred pred, absl::Duration limit = kWait) {
  const absl::Time end = absl::Now() + limit;
  while (!pred()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// A subscription that keeps what arrives, in order, for the test to read.
class Inbox {
 public:
  // Subscribes `subject` on `conn`; check status() afterwards.
  Inbox(Connection& conn, absl::string_view subject) {
    auto sub = conn.transport().Subscribe(subject, "", [this](MessagePtr m) {
      absl::MutexLock lock(&mu_);
      got_.push_back(std::move(m));
    });
    status_ = sub.status();
    if (sub.ok()) sub_ = *std::move(sub);
  }
  const absl::Status& status() const { return status_; }

  // The next message, or null after `limit`.
  MessagePtr Next(absl::Duration limit = kWait) {
    absl::MutexLock lock(&mu_);
    auto some = [this] { return !got_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&some), limit)) return nullptr;
    MessagePtr m = std::move(got_.front());
    got_.pop_front();
    return m;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return got_.size();
  }

 private:
  absl::Mutex mu_;
  std::deque<MessagePtr> got_ ABSL_GUARDED_BY(mu_);
  absl::Status status_;
  std::unique_ptr<Subscription> sub_;  // last: unsubscribes first
};

// Echo answers with the request's payload; Sleep blocks until released, its
// call is cancelled, or `millis` pass, and records which requesters' calls
// saw a cancellation.
class SuiteService final : public tv1::TestService::Service {
 public:
  absl::Status Echo(ServerContext& ctx, const tv1::EchoRequest& req,
                    tv1::EchoReply& reply) override {
    calls.fetch_add(1);
    reply.set_payload(req.payload());
    reply.set_requester(std::string(ctx.requester()));
    return absl::OkStatus();
  }
  absl::Status Sleep(ServerContext& ctx, const tv1::SleepRequest& req,
                     tv1::EchoReply& reply) override {
    calls.fetch_add(1);
    sleeping.fetch_add(1);
    const absl::Time end = absl::Now() + absl::Milliseconds(req.millis());
    while (absl::Now() < end && !released_.HasBeenNotified()) {
      if (ctx.IsCancelled()) {
        absl::MutexLock lock(&mu_);
        cancelled_.push_back(std::string(ctx.requester()));
        sleeping.fetch_sub(1);
        return absl::CancelledError("cancelled");
      }
      released_.WaitForNotificationWithTimeout(absl::Milliseconds(1));
    }
    sleeping.fetch_sub(1);
    reply.set_requester(std::string(ctx.requester()));
    return absl::OkStatus();
  }
  absl::Status Fail(ServerContext&, const tv1::FailRequest& req,
                    tv1::EchoReply&) override {
    calls.fetch_add(1);
    return absl::Status(static_cast<absl::StatusCode>(req.code()),
                        req.message());
  }

  void Release() {
    absl::MutexLock lock(&mu_);
    if (!released_.HasBeenNotified()) released_.Notify();
  }
  std::vector<std::string> cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  std::atomic<int> calls{0};
  std::atomic<int> sleeping{0};

 private:
  absl::Notification released_;
  absl::Mutex mu_;
  std::vector<std::string> cancelled_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::suites

#endif  // NATSRPC_TESTS_INTEGRATION_SUITE_SUPPORT_H_
