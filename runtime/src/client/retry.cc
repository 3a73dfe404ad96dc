// Copyright 2026 The natsrpc Authors.

#include "client/retry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "client/client_metrics.h"

namespace natsrpc {

namespace internal {

namespace {

// The payload type of NotDelivered(); never leaves the process.
constexpr absl::string_view kNotDeliveredUrl = "natsrpc.internal/not-delivered";

// How often a call waiting for the connection looks again, in case a
// reconnect event came before the wait began.
constexpr absl::Duration kConnectionPoll = absl::Milliseconds(250);

// The process's retry timer: one thread that runs tasks at their time. It
// is never destroyed (calls may still wait on it while the process exits).
class RetryTimer {
 public:
  RetryTimer() {
    std::thread([this] { Loop(); }).detach();
  }

  void Add(absl::Time when, absl::AnyInvocable<void()> task) {
    absl::MutexLock lock(&mu_);
    const bool earliest = tasks_.empty() || when < tasks_.begin()->first;
    tasks_.emplace(when, std::move(task));
    if (earliest) cv_.Signal();
  }

 private:
  void Loop() {
    std::vector<absl::AnyInvocable<void()>> due;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        while (tasks_.empty() || tasks_.begin()->first > absl::Now()) {
          cv_.WaitWithDeadline(&mu_, tasks_.empty() ? absl::InfiniteFuture()
                                                    : tasks_.begin()->first);
        }
        const absl::Time now = absl::Now();
        while (!tasks_.empty() && tasks_.begin()->first <= now) {
          due.push_back(std::move(tasks_.begin()->second));
          tasks_.erase(tasks_.begin());
        }
      }
      for (auto& task : due) task();
      due.clear();
    }
  }

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::multimap<absl::Time, absl::AnyInvocable<void()>> tasks_
      ABSL_GUARDED_BY(mu_);
};

RetryTimer& Timer() {
  static RetryTimer* const timer = new RetryTimer();
  return *timer;
}

double Draw() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* const gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::Uniform(*gen, 0.0, 1.0);
}

}  // namespace

absl::Status NotDelivered(absl::Status status) {
  status.SetPayload(kNotDeliveredUrl, absl::Cord("1"));
  return status;
}

bool IsNotDelivered(const absl::Status& status) {
  return status.GetPayload(kNotDeliveredUrl).has_value();
}

absl::Duration RetryBackoff(const RetryPolicy& policy, int retry, double unit) {
  const absl::Duration initial =
      std::max(policy.initial_backoff, absl::ZeroDuration());
  const absl::Duration max = std::max(policy.max_backoff, initial);
  const double multiplier = std::max(policy.backoff_multiplier, 1.0);
  absl::Duration wait = initial;
  for (int i = 1; i < retry && wait < max && multiplier > 1.0; ++i) {
    wait *= multiplier;
  }
  wait = std::min(wait, max);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  return wait * (1.0 + jitter * (2.0 * unit - 1.0));
}

void RunAt(absl::Time when, absl::AnyInvocable<void()> task) {
  Timer().Add(when, std::move(task));
}

CallHandle RetryingCall::Start(std::shared_ptr<Transport> transport,
                               RetryPlan plan, absl::Time deadline,
                               std::string what,
                               std::shared_ptr<ClientMethodCounters> counters,
                               Attempt attempt,
                               ClientChannel::RawCallback done) {
  auto call = std::make_shared<RetryingCall>(
      std::move(transport), std::move(plan), deadline, std::move(what),
      std::move(counters), std::move(attempt), std::move(done));
  call->TryAttempt();
  return CallHandle(std::weak_ptr<RetryingCall>(call));
}

RetryingCall::RetryingCall(std::shared_ptr<Transport> transport, RetryPlan plan,
                           absl::Time deadline, std::string what,
                           std::shared_ptr<ClientMethodCounters> counters,
                           Attempt attempt, ClientChannel::RawCallback done)
    : transport_(std::move(transport)),
      plan_(std::move(plan)),
      deadline_(deadline),
      what_(std::move(what)),
      counters_(std::move(counters)),
      attempt_(std::move(attempt)),
      done_(std::move(done)) {}

RetryingCall::~RetryingCall() {
  // Finish() removes the listener; a call dropped unfinished (its last
  // wake-up lost with the process) leaves nothing behind either.
  uint64_t listener;
  {
    absl::MutexLock lock(&mu_);
    listener = listener_;
  }
  if (listener != 0) transport_->RemoveEventListener(listener);
}

void RetryingCall::TryAttempt() {
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return;
  }
  if (absl::Now() >= deadline_) {
    absl::Status last;
    {
      absl::MutexLock lock(&mu_);
      last = last_;
    }
    Finish(absl::DeadlineExceededError(absl::StrCat(
               "deadline of ", what_, " passed",
               last.ok() ? ""
                         : absl::StrCat(" while waiting to send it again (",
                                        last.message(), ")"))),
           nullptr);
    return;
  }
  if (plan_.wait_for_ready && !transport_->connected()) {
    WaitForConnection();
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (++attempts_ > 1 && counters_ != nullptr) {
      counters_->retries.fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::shared_ptr<RetryingCall> self = shared_from_this();
  CallHandle handle =
      attempt_([self](absl::Status status, MessagePtr reply) mutable {
        self->OnAttemptDone(std::move(status), std::move(reply));
      });
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    current_ = handle;
    // Cancel() ran while this attempt was being sent.
    cancel = cancelled_ && done_ != nullptr;
  }
  if (cancel) handle.Cancel();
}

void RetryingCall::OnAttemptDone(absl::Status status, MessagePtr reply) {
  if (status.ok()) {
    Finish(std::move(status), std::move(reply));
    return;
  }
  const absl::StatusCode code = status.code();
  bool retry = false;
  bool resend = false;
  absl::Duration wait;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return;
    if (!cancelled_ && code != absl::StatusCode::kDeadlineExceeded &&
        code != absl::StatusCode::kCancelled) {
      if (plan_.wait_for_ready && IsNotDelivered(status)) {
        // Nobody got it: wait for the connection, or send it again.
        resend = true;
        last_ = status;
        // Never a busy loop, whatever the policy says.
        wait = std::max(RetryBackoff(plan_.policy, ++resends_, Draw()),
                        absl::Milliseconds(1));
      } else if (plan_.retries && attempts_ < plan_.policy.max_attempts &&
                 std::find(plan_.policy.retryable_codes.begin(),
                           plan_.policy.retryable_codes.end(),
                           code) != plan_.policy.retryable_codes.end()) {
        wait = RetryBackoff(plan_.policy, ++retries_, Draw());
        // A wait past the deadline only delays the same outcome.
        retry = absl::Now() + wait < deadline_;
        if (retry) last_ = status;
      }
    }
  }
  if (resend) {
    if (!transport_->connected()) {
      WaitForConnection();
    } else {
      WakeAt(std::min(absl::Now() + wait, deadline_));
    }
    return;
  }
  if (retry) {
    WakeAt(absl::Now() + wait);
    return;
  }
  Finish(std::move(status), std::move(reply));
}

void RetryingCall::WaitForConnection() {
  std::weak_ptr<RetryingCall> weak = weak_from_this();
  bool add = false;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return;
    waiting_for_connection_ = true;
    if (last_.ok()) last_ = absl::UnavailableError("not connected to NATS");
    add = listener_ == 0;
  }
  if (add) {
    const uint64_t id =
        transport_->AddEventListener([weak](const TransportEvent& event) {
          if (event.kind != TransportEvent::Kind::kReconnected &&
              event.kind != TransportEvent::Kind::kClosed) {
            return;
          }
          std::shared_ptr<RetryingCall> self = weak.lock();
          if (self == nullptr) return;
          {
            absl::MutexLock lock(&self->mu_);
            // An attempt is in flight: the reply multiplexer handles it.
            if (!self->waiting_for_connection_) return;
            if (event.kind == TransportEvent::Kind::kClosed) {
              self->closed_ = true;
            }
          }
          // Not on the connection's callback thread: it must not block.
          self->WakeAt(absl::Now());
        });
    bool keep = true;
    {
      absl::MutexLock lock(&mu_);
      if (listener_ == 0 && done_ != nullptr) {
        listener_ = id;
      } else {
        keep = false;
      }
    }
    if (!keep) transport_->RemoveEventListener(id);
  }
  // The reconnect may have come before the listener: look again now and
  // then, until the deadline.
  WakeAt(transport_->connected()
             ? absl::Now()
             : std::min(absl::Now() + kConnectionPoll, deadline_));
}

void RetryingCall::WakeAt(absl::Time when) {
  uint64_t token;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return;
    token = wake_token_ = ++next_token_;
  }
  RunAt(when, [self = shared_from_this(), token] { self->Woken(token); });
}

void RetryingCall::Woken(uint64_t token) {
  bool closed;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr || token != wake_token_) return;
    wake_token_ = 0;
    waiting_for_connection_ = false;
    closed = closed_;
  }
  if (closed) {
    Finish(absl::UnavailableError(absl::StrCat(
               "the NATS connection was closed before ", what_, " was sent")),
           nullptr);
    return;
  }
  TryAttempt();
}

bool RetryingCall::Cancel() {
  CallHandle current;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return false;
    cancelled_ = true;
    current = current_;
  }
  // An attempt in flight ends with CANCELLED, which ends the call (and
  // tells the server, protocol 9.8).
  if (current.Cancel()) return true;
  return Finish(absl::CancelledError("the call was cancelled by the caller"),
                nullptr);
}

bool RetryingCall::Finish(absl::Status status, MessagePtr reply) {
  ClientChannel::RawCallback done;
  uint64_t listener = 0;
  {
    absl::MutexLock lock(&mu_);
    if (done_ == nullptr) return false;
    done = std::move(done_);
    done_ = nullptr;
    listener = listener_;
    listener_ = 0;
    wake_token_ = 0;
  }
  if (listener != 0) transport_->RemoveEventListener(listener);
  status.ErasePayload(kNotDeliveredUrl);
  done(std::move(status), std::move(reply));
  return true;
}

}  // namespace internal
}  // namespace natsrpc
