// Copyright 2026 The natsrpc Authors.

#include "client/gather_mux.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "wire/headers.h"
#include "wire/status_body.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

namespace {

using RawGatherReply = ClientChannel::RawGatherReply;

// One call in flight; guarded by its router's mutex.
struct Pending {
  GatherMux::Call call;
  std::vector<RawGatherReply> replies;
  absl::Time last;  // the latest reply, or the request's publish
  bool sentinel = false;
  bool no_responders = false;

  // When the stall interval or the deadline ends the call.
  absl::Time Due() const {
    if (call.stall <= absl::ZeroDuration()) return call.deadline;
    return std::min(call.deadline, last + call.stall);
  }
  // Whether what arrived ends the call now.
  bool Complete() const {
    return sentinel || (no_responders && replies.empty()) ||
           (call.max_replies > 0 &&
            replies.size() >= static_cast<size_t>(call.max_replies));
  }
  // Runs `done` with what arrived.
  void Finish() && {
    if (no_responders && replies.empty()) {
      call.done(absl::UnavailableError(absl::StrCat(
                    "no responders: nothing subscribes to ", call.subject,
                    " (no server of protocol revision 5 or later serves it)")),
                {});
      return;
    }
    if (call.max_replies > 0 &&
        replies.size() > static_cast<size_t>(call.max_replies)) {
      replies.resize(static_cast<size_t>(call.max_replies));
    }
    call.done(absl::OkStatus(), std::move(replies));
  }
};

RawGatherReply ReadReply(const MessagePtr& message) {
  RawGatherReply reply;
  if (absl::Status headers = message->header_status(); !headers.ok()) {
    reply.status = absl::InternalError(
        absl::StrCat("a reply is unreadable: ", headers.message()));
    return reply;
  }
  reply.instance_id =
      std::string(message->header(wire::kInstanceHeader).value_or(""));
  reply.status = wire::StatusFromErrorReply(
      message->header(wire::kErrorCodeHeader),
      message->header(wire::kErrorHeader), message->data());
  reply.message = message;
  return reply;
}

}  // namespace

// Shared by the GatherMux, the subscription's handler (weakly) and the timer
// thread, so that calls outlive the stub that started them.
class GatherRouter : public std::enable_shared_from_this<GatherRouter> {
 public:
  GatherRouter(const Connection& connection, std::string prefix)
      : connection_(connection), prefix_(std::move(prefix)) {}

  // Subscribes on first use; an error is returned, and tried again by the
  // next call.
  absl::Status EnsureSubscribed() {
    absl::MutexLock lock(&subscribe_mu_);
    if (subscription_ != nullptr) return absl::OkStatus();
    std::weak_ptr<GatherRouter> weak = weak_from_this();
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        connection_.transport().Subscribe(
            absl::StrCat(prefix_, "*"), /*queue=*/"", [weak](MessagePtr m) {
              if (std::shared_ptr<GatherRouter> self = weak.lock()) {
                self->OnReply(std::move(m));
              }
            });
    if (!sub.ok()) return sub.status();
    subscription_ = *std::move(sub);
    return absl::OkStatus();
  }

  uint64_t Add(GatherMux::Call call) {
    absl::MutexLock lock(&mu_);
    const uint64_t seq = next_seq_++;
    auto pending = std::make_unique<Pending>();
    pending->call = std::move(call);
    pending->last = absl::Now();
    const absl::Time due = pending->Due();
    calls_.emplace(seq, std::move(pending));
    if (!timer_running_) {
      timer_running_ = true;
      std::thread([self = shared_from_this()] { self->TimerLoop(); }).detach();
    } else if (due < timer_wakes_at_) {
      timer_cv_.Signal();
    }
    return seq;
  }

  // Removes call `seq` if it is still in flight.
  std::unique_ptr<Pending> Take(uint64_t seq) {
    absl::MutexLock lock(&mu_);
    return TakeLocked(seq);
  }

  const std::string& prefix() const { return prefix_; }

  // The owner is gone: the timer thread ends with the last call.
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    timer_cv_.Signal();
  }

 private:
  std::unique_ptr<Pending> TakeLocked(uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = calls_.find(seq);
    if (it == calls_.end()) return nullptr;
    std::unique_ptr<Pending> out = std::move(it->second);
    calls_.erase(it);
    return out;
  }

  void OnReply(MessagePtr message) {
    uint64_t seq = 0;
    absl::string_view subject = message->subject();
    if (!absl::ConsumePrefix(&subject, prefix_) ||
        !wire::ParseSeq(subject, seq)) {
      return;
    }
    const bool no_responders = message->is_no_responders();
    std::optional<RawGatherReply> reply;
    if (!no_responders) reply = ReadReply(message);
    std::unique_ptr<Pending> ended;
    {
      absl::MutexLock lock(&mu_);
      auto it = calls_.find(seq);
      if (it == calls_.end()) return;  // ended: a late reply is dropped
      Pending& p = *it->second;
      if (no_responders) {
        p.no_responders = true;
      } else {
        p.sentinel =
            p.sentinel || message->header(wire::kGatherEndHeader).has_value();
        p.replies.push_back(*std::move(reply));
        p.last = absl::Now();
      }
      if (p.Complete()) ended = TakeLocked(seq);
    }
    if (ended != nullptr) std::move(*ended).Finish();
  }

  void TimerLoop() {
    std::vector<std::unique_ptr<Pending>> due;
    absl::MutexLock lock(&mu_);
    while (!stopping_ || !calls_.empty()) {
      const absl::Time now = absl::Now();
      absl::Time next = absl::InfiniteFuture();
      for (auto it = calls_.begin(); it != calls_.end();) {
        const absl::Time at = it->second->Due();
        if (at <= now) {
          due.push_back(std::move(it->second));
          calls_.erase(it++);
        } else {
          next = std::min(next, at);
          ++it;
        }
      }
      if (!due.empty()) {
        mu_.Unlock();
        for (std::unique_ptr<Pending>& p : due) std::move(*p).Finish();
        due.clear();
        mu_.Lock();
        continue;
      }
      timer_wakes_at_ = next;
      timer_cv_.WaitWithDeadline(&mu_, next);
      timer_wakes_at_ = absl::InfiniteFuture();
    }
    timer_running_ = false;
  }

  // Keeps the transport alive as long as the subscription.
  const Connection connection_;
  const std::string prefix_;  // responses.<R>.<P>.<A>.<client id>.
  absl::Mutex subscribe_mu_;
  std::unique_ptr<Subscription> subscription_ ABSL_GUARDED_BY(subscribe_mu_);

  absl::Mutex mu_;
  absl::CondVar timer_cv_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Pending>> calls_
      ABSL_GUARDED_BY(mu_);
  bool timer_running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time timer_wakes_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

GatherMux::GatherMux(const Connection& connection, absl::string_view requester,
                     absl::string_view responder, absl::string_view app)
    : router_(std::make_shared<GatherRouter>(
          connection, wire::ResponsePrefix(requester, responder, app,
                                           wire::NewClientId()))) {}

GatherMux::~GatherMux() { router_->Stop(); }

void GatherMux::Start(
    Call call,
    absl::FunctionRef<absl::Status(absl::string_view reply_to)> publish) {
  if (absl::Status s = router_->EnsureSubscribed(); !s.ok()) {
    call.done(std::move(s), {});
    return;
  }
  const uint64_t seq = router_->Add(std::move(call));
  std::string overflow;
  char buffer[128];
  const absl::string_view reply_to = wire::ResponseSubject(
      router_->prefix(), seq, absl::MakeSpan(buffer), overflow);
  if (absl::Status s = publish(reply_to); !s.ok()) {
    // Unless its deadline has ended it already.
    if (std::unique_ptr<Pending> p = router_->Take(seq)) {
      p->call.done(std::move(s), {});
    }
  }
}

}  // namespace natsrpc::internal
