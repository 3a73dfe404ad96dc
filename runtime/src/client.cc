// Copyright 2026 The natsrpc Authors.

#include "natsrpc/client.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "connection_state.h"
#include "natsrpc/names.h"
#include "reply_mux.h"

namespace natsrpc {
namespace internal {

absl::StatusOr<std::shared_ptr<ReplyMux>> ReplyMux::Create(
    std::shared_ptr<Transport> transport, absl::string_view requester) {
  auto mux = std::make_shared<ReplyMux>(std::move(transport), requester);
  if (absl::Status s = mux->Subscribe(); !s.ok()) return s;
  return mux;
}

ReplyMux::ReplyMux(std::shared_ptr<Transport> transport,
                   absl::string_view requester)
    : transport_(std::move(transport)),
      requester_(requester),
      client_id_(NewClientId()) {}

absl::Status ReplyMux::Subscribe() {
  std::weak_ptr<ReplyMux> weak = weak_from_this();
  listener_id_ = transport_->AddEventListener(
      [weak](const TransportEvent& event) {
        if (auto self = weak.lock()) self->OnEvent(event);
      });
  absl::StatusOr<std::unique_ptr<Subscription>> sub = transport_->Subscribe(
      ResponseWildcard(requester_, client_id_), "", [weak](MessagePtr m) {
        if (auto self = weak.lock()) self->OnReply(std::move(m));
      });
  if (!sub.ok()) return sub.status();
  subscription_ = *std::move(sub);
  timer_ = std::thread([this] { TimerLoop(); });
  return absl::OkStatus();
}

ReplyMux::~ReplyMux() {
  transport_->RemoveEventListener(listener_id_);
  subscription_.reset();
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    timer_cv_.Signal();
  }
  if (timer_.joinable()) {
    // The last reference may be dropped by a callback on the timer thread.
    if (timer_.get_id() == std::this_thread::get_id()) {
      timer_.detach();
    } else {
      timer_.join();
    }
  }
  for (Pending& p : TakeAll(nullptr)) {
    p.done(absl::CancelledError("the client was destroyed before the reply"),
           nullptr);
  }
}

CallHandle ReplyMux::Start(std::shared_ptr<const std::string> subject_ptr,
                           absl::string_view reply_prefix,
                           absl::string_view content_type,
                           const Metadata* metadata, absl::string_view payload,
                           absl::Time deadline,
                           ClientChannel::RawCallback done) {
  calls_started_.fetch_add(1, std::memory_order_relaxed);
  const std::string& subject = *subject_ptr;
  const absl::Time now = absl::Now();
  if (deadline <= now) {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    done(absl::DeadlineExceededError(absl::StrCat(
             "deadline of ", subject, " passed before the request was sent")),
         nullptr);
    return CallHandle();
  }
  if (!transport_->connected()) {
    done(absl::UnavailableError(absl::StrCat(
             "cannot call ", subject, ": not connected to NATS")),
         nullptr);
    return CallHandle();
  }
  uint64_t seq;
  absl::Status broken;
  // The only call in flight: nothing will be published right after it, so
  // write it now rather than hop to the event-loop thread.
  bool alone = false;
  {
    absl::MutexLock lock(&mu_);
    broken = broken_;
    if (broken.ok()) {
      seq = next_seq_++;
      pending_.emplace(
          seq, Pending{std::move(done), deadline, std::move(subject_ptr)});
      deadlines_.emplace(deadline, seq);
      // The timer thread sleeps until a later time: wake it.
      if (deadline < timer_wakes_at_) {
        timer_wakes_at_ = deadline;
        timer_cv_.Signal();
      }
      alone = pending_.size() == 1;
    }
  }
  if (!broken.ok()) {
    done(std::move(broken), nullptr);
    return CallHandle();
  }

  char reply[256];
  std::string long_reply;
  absl::string_view reply_view;
  {
    char digits[32];
    char* end = absl::numbers_internal::FastIntToBuffer(seq, digits);
    const size_t n = static_cast<size_t>(end - digits);
    if (reply_prefix.size() + n <= sizeof(reply)) {
      std::copy(reply_prefix.begin(), reply_prefix.end(), reply);
      std::copy(digits, digits + n, reply + reply_prefix.size());
      reply_view = absl::string_view(reply, reply_prefix.size() + n);
    } else {
      long_reply = absl::StrCat(reply_prefix, absl::string_view(digits, n));
      reply_view = long_reply;
    }
  }
  const std::string timeout = EncodeTimeout(deadline - now);
  const std::array<HeaderRef, 2> headers = {
      HeaderRef{kTimeoutHeader, timeout},
      HeaderRef{kContentTypeHeader, content_type}};
  absl::Status s = transport_->Publish(OutgoingMessage{
      subject, reply_view, headers, metadata, payload, /*write_now=*/alone});
  if (!s.ok()) Complete(seq, std::move(s));
  return CallHandle(weak_from_this(), seq);
}

bool ReplyMux::Complete(uint64_t seq, absl::Status status) {
  ClientChannel::RawCallback done;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) return false;
    done = std::move(it->second.done);
    deadlines_.erase({it->second.deadline, seq});
    pending_.erase(it);
  }
  done(std::move(status), nullptr);
  return true;
}

void ReplyMux::OnReply(MessagePtr message) {
  replies_received_.fetch_add(1, std::memory_order_relaxed);
  const absl::string_view subject = message->subject();
  uint64_t seq = 0;
  const size_t dot = subject.rfind('.');
  if (dot == absl::string_view::npos ||
      !ParseSeq(subject.substr(dot + 1), seq)) {
    replies_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ClientChannel::RawCallback done;
  std::string request_subject;
  const bool no_responders = message->is_no_responders();
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) {
      replies_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    done = std::move(it->second.done);
    if (no_responders) request_subject = *it->second.subject;
    deadlines_.erase({it->second.deadline, seq});
    pending_.erase(it);
  }
  if (no_responders) {
    done(absl::UnavailableError(absl::StrCat(
             "no responders: nothing subscribes to ", request_subject)),
         nullptr);
    return;
  }
  absl::Status status = StatusFromHeaders(message->header(kErrorCodeHeader),
                                          message->header(kErrorHeader));
  if (!status.ok()) {
    done(std::move(status), nullptr);
    return;
  }
  done(absl::OkStatus(), std::move(message));
}

std::vector<ReplyMux::Pending> ReplyMux::TakeAll(
    const std::string* only_subject) {
  std::vector<Pending> out;
  absl::MutexLock lock(&mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (only_subject == nullptr || *it->second.subject == *only_subject) {
      deadlines_.erase({it->second.deadline, it->first});
      out.push_back(std::move(it->second));
      pending_.erase(it++);
    } else {
      ++it;
    }
  }
  return out;
}

void ReplyMux::OnEvent(const TransportEvent& event) {
  switch (event.kind) {
    case TransportEvent::Kind::kClosed:
    case TransportEvent::Kind::kDisconnected: {
      const char* what = event.kind == TransportEvent::Kind::kClosed
                             ? "the NATS connection was closed"
                             : "the NATS connection was lost";
      for (Pending& p : TakeAll(nullptr)) {
        p.done(absl::UnavailableError(absl::StrCat(
                   what, " while waiting for the reply of ", *p.subject)),
               nullptr);
      }
      return;
    }
    case TransportEvent::Kind::kPermissionDenied: {
      if (!event.publish) {
        if (event.subject != ResponseWildcard(requester_, client_id_)) return;
        absl::Status broken = absl::PermissionDeniedError(absl::StrCat(
            "NATS refused the subscription to ", event.subject,
            ": the user may not subscribe to responses.", requester_, ".>"));
        {
          absl::MutexLock lock(&mu_);
          broken_ = broken;
        }
        for (Pending& p : TakeAll(nullptr)) p.done(broken, nullptr);
        return;
      }
      for (Pending& p : TakeAll(&event.subject)) {
        p.done(absl::PermissionDeniedError(absl::StrCat(
                   "NATS refused the publish to ", event.subject, ": ",
                   event.message)),
               nullptr);
      }
      return;
    }
    default:
      return;
  }
}

void ReplyMux::TimerLoop() {
  std::vector<Pending> expired;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_) {
        const absl::Time next = deadlines_.empty() ? absl::InfiniteFuture()
                                                   : deadlines_.begin()->first;
        if (next <= absl::Now()) break;
        timer_wakes_at_ = next;
        timer_cv_.WaitWithDeadline(&mu_, next);
      }
      timer_wakes_at_ = absl::InfinitePast();  // awake: no signal needed
      if (stopping_) return;
      const absl::Time now = absl::Now();
      while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const uint64_t seq = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = pending_.find(seq);
        if (it != pending_.end()) {
          expired.push_back(std::move(it->second));
          pending_.erase(it);
        }
      }
    }
    for (Pending& p : expired) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      p.done(absl::DeadlineExceededError(
                 absl::StrCat("no reply from ", *p.subject, " by the deadline")),
             nullptr);
    }
    expired.clear();
  }
}

ClientStats ReplyMux::stats() const {
  ClientStats s;
  s.calls_started = calls_started_.load(std::memory_order_relaxed);
  s.replies_received = replies_received_.load(std::memory_order_relaxed);
  s.replies_dropped = replies_dropped_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  return s;
}

absl::Status ReplyDecodeError(const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat("cannot decode the reply: ", status.message()));
}

}  // namespace internal

bool CallHandle::Cancel() const {
  std::shared_ptr<internal::ReplyMux> mux = mux_.lock();
  if (mux == nullptr) return false;
  return mux->Complete(seq_,
                       absl::CancelledError("the call was cancelled by the caller"));
}

ClientChannel::ClientChannel(const Connection& connection,
                             const ClientOptions& options,
                             absl::string_view service,
                             absl::string_view default_app,
                             absl::Span<const MethodSpec> methods)
    : app_(options.app.empty() ? std::string(default_app) : options.app),
      default_timeout_(options.default_timeout > absl::ZeroDuration()
                           ? options.default_timeout
                           : kDefaultCallTimeout),
      metadata_(options.metadata) {
  status_ = ValidateToken("ClientOptions.requester", options.requester);
  if (status_.ok()) {
    status_ = ValidateToken("ClientOptions.responder", options.responder);
  }
  if (status_.ok()) {
    status_ = ValidateToken(
        options.app.empty() ? "app (from the IDL)" : "ClientOptions.app",
        app_);
  }
  if (status_.ok()) status_ = ValidateMetadata(metadata_);
  if (status_.ok()) {
    absl::StatusOr<std::shared_ptr<internal::ReplyMux>> mux =
        connection.state()->GetReplyMux(options.requester);
    if (mux.ok()) {
      mux_ = *std::move(mux);
    } else {
      status_ = mux.status();
    }
  }
  if (!status_.ok()) return;
  reply_prefix_ = ResponsePrefix(options.requester, options.responder, app_,
                                 mux_->client_id());
  methods_.reserve(methods.size());
  for (const MethodSpec& m : methods) {
    methods_.push_back(Method{
        std::make_shared<const std::string>(RequestSubject(
            options.requester, options.responder, app_, service, m.name)),
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : default_timeout_});
  }
}

ClientChannel::~ClientChannel() = default;

CallHandle ClientChannel::StartCall(int method, const Payload& request,
                                    absl::string_view content_type,
                                    const CallOptions& options,
                                    RawCallback done) {
  if (!status_.ok()) {
    done(status_, nullptr);
    return CallHandle();
  }
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    done(absl::InvalidArgumentError(
             absl::StrCat("no method number ", method, " in this client")),
         nullptr);
    return CallHandle();
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  const absl::Duration timeout =
      options.timeout > absl::ZeroDuration() ? options.timeout : m.timeout;
  const absl::Time deadline = std::min(absl::Now() + timeout, options.deadline);

  const Metadata* metadata = metadata_.empty() ? nullptr : &metadata_;
  Metadata merged;
  if (!options.metadata.empty()) {
    if (absl::Status s = ValidateMetadata(options.metadata); !s.ok()) {
      done(std::move(s), nullptr);
      return CallHandle();
    }
    if (metadata_.empty()) {
      metadata = &options.metadata;
    } else {
      merged = metadata_;
      merged.insert(merged.end(), options.metadata.begin(),
                    options.metadata.end());
      metadata = &merged;
    }
  }
  return mux_->Start(m.subject, reply_prefix_, content_type, metadata,
                     request.view(), deadline, std::move(done));
}

ClientStats ClientChannel::stats() const {
  return mux_ == nullptr ? ClientStats() : mux_->stats();
}

}  // namespace natsrpc
