// Copyright 2026 The natsrpc Authors.

#include "client/reply_mux.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "client/retry.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/status_macros.h"
#include "stream/stream_endpoint.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/lean_unary.h"
#include "wire/status_body.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

absl::StatusOr<std::shared_ptr<ReplyMux>> ReplyMux::Create(
    std::shared_ptr<Transport> transport, absl::string_view requester,
    std::shared_ptr<ReplyCounters> replies) {
  auto mux = std::make_shared<ReplyMux>(std::move(transport), requester,
                                        std::move(replies));
  if (absl::Status s = mux->Subscribe(); !s.ok()) return s;
  return mux;
}

ReplyMux::ReplyMux(std::shared_ptr<Transport> transport,
                   absl::string_view requester,
                   std::shared_ptr<ReplyCounters> replies)
    : transport_(std::move(transport)),
      requester_(requester),
      client_id_(wire::NewClientId()),
      replies_(std::move(replies)) {}

void ReplyMux::RememberTimeout(uint64_t seq) {
  if (replies_ == nullptr) return;
  if (timed_out_order_.size() >= kRememberedTimeouts) {
    timed_out_.erase(timed_out_order_.front());
    timed_out_order_.pop_front();
  }
  timed_out_.insert(seq);
  timed_out_order_.push_back(seq);
}

void ReplyMux::CountUnmatched(uint64_t seq, const IncomingMessage& message) {
  if (replies_ == nullptr) return;
  // Stream messages that come after their stream was forgotten are neither.
  if (message.header(wire::kStreamHeader).has_value()) return;
  if (seq == 0 || seq >= next_seq_) {
    replies_->unknown.fetch_add(1, std::memory_order_relaxed);
  } else if (timed_out_.erase(seq) > 0) {
    // Once: a second copy of a late reply is a duplicate.
    replies_->late.fetch_add(1, std::memory_order_relaxed);
  } else {
    replies_->duplicate.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::Status ReplyMux::Subscribe() {
  std::weak_ptr<ReplyMux> weak = weak_from_this();
  listener_id_ =
      transport_->AddEventListener([weak](const TransportEvent& event) {
        if (auto self = weak.lock()) self->OnEvent(event);
      });
  absl::StatusOr<std::unique_ptr<Subscription>> sub = transport_->Subscribe(
      wire::ResponseWildcard(requester_, client_id_), "", [weak](MessagePtr m) {
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
    if (timer_.get_id() == std::this_thread::get_id()) {
      // The timer thread dropped the last reference (TimerLoop's `self`,
      // after a callback let go of the last Client): it cannot join itself.
      // The flag lives on its stack and tells it to return without touching
      // `this` again.
      *timer_destroyed_ = true;
      timer_.detach();
    } else {
      timer_.join();
    }
  }
  for (Pending& p : TakeAll(nullptr)) {
    p.Finish(absl::CancelledError("the client was destroyed before the reply"),
             nullptr);
  }
  std::vector<std::shared_ptr<StreamEndpoint>> streams;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [seq, entry] : streams_) {
      streams.push_back(entry.stream->endpoint());
    }
    streams_.clear();
  }
  // The server's handlers should not run on for nobody.
  for (auto& e : streams) {
    e->Cancel(absl::CancelledError("the client was destroyed"));
  }
}

std::shared_ptr<StreamEndpoint> ReplyMux::OpenStream(
    ClientStreamParams params) {
  calls_started_.fetch_add(1, std::memory_order_relaxed);
  const std::string subject = wire::InstanceRequestSubject(
      params.requester, params.responder, params.app, params.service,
      params.method, params.instance);
  const absl::Time now = absl::Now();
  if (params.deadline <= now) {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    return FailedStream(absl::DeadlineExceededError(absl::StrCat(
        "deadline of ", subject, " passed before the stream was opened")));
  }
  if (!transport_->connected()) {
    return FailedStream(absl::UnavailableError(absl::StrCat(
        "cannot open a stream on ", subject, ": not connected to NATS")));
  }
  params.client_id = client_id_;
  std::shared_ptr<ClientStream> stream;
  {
    absl::MutexLock lock(&mu_);
    if (!broken_.ok()) return FailedStream(broken_);
    params.seq = next_seq_++;
    const uint64_t seq = params.seq;
    const absl::Time deadline = params.deadline;
    absl::StatusOr<std::shared_ptr<ClientStream>> created =
        ClientStream::Create(transport_, std::move(params));
    if (!created.ok()) return FailedStream(created.status());
    stream = *std::move(created);
    streams_.emplace(seq, OpenStreamEntry{stream, deadline, subject});
    auto [where, inserted] = deadlines_.emplace(deadline, seq);
    if (where == deadlines_.begin()) timer_cv_.Signal();
    if (next_tick_ == absl::InfiniteFuture()) {
      next_tick_ = now + wire::kStreamTickPeriod;
      timer_cv_.Signal();
    }
  }
  // Routed before the open goes out: the accept may come back at once.
  if (absl::Status s = stream->Open(); !s.ok()) {
    stream->endpoint()->OnPeerCancel(absl::Status(
        s.code(),
        absl::StrCat("cannot open a stream on ", subject, ": ", s.message())));
  }
  return stream->endpoint();
}

bool ReplyMux::Cancel(uint64_t seq) {
  Pending p;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) return false;
    p = std::move(it->second);
    deadlines_.erase({p.deadline, seq});
    pending_.erase(it);
  }
  // Tell the server first, so its handler stops as soon as possible.
  PublishCancel(*transport_,
                p.lean_timeout.empty()
                    ? wire::CancelSubjectOf(p.subject(), client_id_, seq)
                    : wire::LeanCancelSubjectOf(p.subject(), client_id_, seq,
                                                p.lean_timeout))
      .IgnoreError();
  p.Finish(absl::CancelledError("the call was cancelled by the caller"),
           nullptr);
  return true;
}

void ReplyMux::FailStreams(const absl::Status& status,
                           const std::string* only_subject) {
  std::vector<std::shared_ptr<StreamEndpoint>> failed;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (only_subject == nullptr || it->second.subject == *only_subject) {
        failed.push_back(it->second.stream->endpoint());
        deadlines_.erase({it->second.deadline, it->first});
        streams_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (auto& e : failed) e->OnPeerCancel(status);
}

void ReplyMux::TickStreams() {
  std::vector<std::pair<uint64_t, std::shared_ptr<StreamEndpoint>>> open;
  {
    absl::MutexLock lock(&mu_);
    open.reserve(streams_.size());
    for (auto& [seq, entry] : streams_) {
      open.emplace_back(seq, entry.stream->endpoint());
    }
  }
  std::vector<uint64_t> finished;
  for (auto& [seq, endpoint] : open) {
    endpoint->Tick();
    if (endpoint->finished()) finished.push_back(seq);
  }
  if (finished.empty()) return;
  absl::MutexLock lock(&mu_);
  for (uint64_t seq : finished) {
    auto it = streams_.find(seq);
    if (it == streams_.end()) continue;
    deadlines_.erase({it->second.deadline, seq});
    streams_.erase(it);
  }
}

CallHandle ReplyMux::Start(std::shared_ptr<UnaryRoute> route, absl::Time start,
                           absl::string_view reply_prefix,
                           absl::string_view content_type,
                           const Metadata* metadata, absl::string_view payload,
                           absl::Time deadline, ClientChannel::RawCallback done,
                           bool count, bool mark_undelivered) {
  calls_started_.fetch_add(1, std::memory_order_relaxed);
  const std::string& subject = route->subject;
  const absl::Time now = absl::Now();
  // Ends a call that never got a seq.
  auto fail = [&](absl::Status status) {
    if (count) route->counters->Finish(status.code(), start);
    done(std::move(status), nullptr);
    return CallHandle();
  };
  if (deadline <= now) {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    return fail(absl::DeadlineExceededError(absl::StrCat(
        "deadline of ", subject, " passed before the request was sent")));
  }
  if (!transport_->connected()) {
    // Not sent: wait-for-ready may send it later (client/retry.h).
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot call ", subject, ": not connected to NATS"));
    return fail(mark_undelivered ? NotDelivered(std::move(status))
                                 : std::move(status));
  }
  // Revision 5 (docs/protocol.md 3.3): to a responder known to read it, the
  // lean form, the timeout in the reply-to and no headers of our own.
  const bool lean = route->lean.load(std::memory_order_relaxed);
  const std::string timeout = wire::EncodeTimeout(deadline - now);
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
          seq, Pending{std::move(done), deadline, route, start, count,
                       lean ? timeout : std::string(), mark_undelivered});
      deadlines_.emplace(deadline, seq);
      // The timer thread sleeps until a later time: wake it.
      if (deadline < timer_wakes_at_) {
        timer_wakes_at_ = deadline;
        timer_cv_.Signal();
      }
      alone = pending_.size() == 1;
    }
  }
  if (!broken.ok()) return fail(std::move(broken));

  char reply[256];
  std::string long_reply;
  const absl::string_view reply_view =
      lean ? wire::LeanResponseSubject(reply_prefix, seq, timeout,
                                       absl::MakeSpan(reply), long_reply)
           : wire::ResponseSubject(reply_prefix, seq, absl::MakeSpan(reply),
                                   long_reply);
  // Until the responder is known to read the lean form: revision 4's
  // headers, and the question whether it does.
  const std::array<HeaderRef, 3> full = {
      HeaderRef{wire::kTimeoutHeader, timeout},
      HeaderRef{wire::kContentTypeHeader, content_type},
      HeaderRef{wire::kRevisionHeader, wire::kLeanUnaryRevisionValue}};
  const absl::Span<const HeaderRef> headers =
      lean ? absl::Span<const HeaderRef>() : absl::MakeConstSpan(full);
  // Made before publishing: the reply may arrive, and its callback drop the
  // last Client (destroying this mux), before Publish() returns. After a
  // failed publish no reply can come, so `this` is still alive then.
  CallHandle handle(weak_from_this(), seq);
  absl::Status s = transport_->Publish(
      OutgoingMessage{subject, reply_view, headers, metadata, payload,
                      alone ? FlushPolicy::kNow : FlushPolicy::kBatch});
  if (!s.ok()) Complete(seq, std::move(s));
  return handle;
}

bool ReplyMux::Complete(uint64_t seq, absl::Status status) {
  Pending call;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) return false;
    call = std::move(it->second);
    deadlines_.erase({call.deadline, seq});
    pending_.erase(it);
  }
  call.Finish(std::move(status), nullptr);
  return true;
}

void ReplyMux::OnReply(MessagePtr message) {
  replies_received_.fetch_add(1, std::memory_order_relaxed);
  const absl::string_view subject = message->subject();
  uint64_t seq = 0;
  const size_t dot = subject.rfind('.');
  if (dot == absl::string_view::npos ||
      !wire::ParseReplySeq(subject.substr(dot + 1), seq)) {
    replies_dropped_.fetch_add(1, std::memory_order_relaxed);
    if (replies_ != nullptr) {
      replies_->unknown.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  Pending call;
  const bool no_responders = message->is_no_responders();
  std::shared_ptr<ClientStream> stream;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) {
      auto st = streams_.find(seq);
      if (st == streams_.end()) {
        replies_dropped_.fetch_add(1, std::memory_order_relaxed);
        CountUnmatched(seq, *message);
        return;
      }
      stream = st->second.stream;
    } else {
      call = std::move(it->second);
      deadlines_.erase({call.deadline, seq});
      pending_.erase(it);
    }
  }
  if (stream != nullptr) {
    stream->OnReply(std::move(message));
    return;
  }
  if (no_responders) {
    // Delivered to nobody: wait-for-ready may send it again.
    absl::Status status = absl::UnavailableError(
        absl::StrCat("no responders: nothing subscribes to ", call.subject()));
    call.Finish(call.mark_undelivered ? NotDelivered(std::move(status))
                                      : std::move(status),
                nullptr);
    return;
  }
  LearnLeanForm(call, *message);
  if (absl::Status headers = message->header_status(); !headers.ok()) {
    // Neither status nor metadata can be read (docs/protocol.md section 3).
    call.Finish(
        absl::InternalError(absl::StrCat(
            "the reply to call ", seq, " is unreadable: ", headers.message())),
        nullptr);
    return;
  }
  absl::Status status = wire::StatusFromErrorReply(
      message->header(wire::kErrorCodeHeader),
      message->header(wire::kErrorHeader), message->data());
  // An error reply is passed on too: it may carry metadata.
  call.Finish(std::move(status), std::move(message));
}

void ReplyMux::LearnLeanForm(const Pending& call,
                             const IncomingMessage& reply) {
  // docs/protocol.md 3.3: a revision-5 server never sends Content-Type in
  // answer to a lean request, and announces itself on its replies to
  // requests that asked.
  UnaryRoute& route = *call.route;
  if (!call.lean_timeout.empty()) {
    if (reply.header(wire::kContentTypeHeader).has_value()) {
      route.lean.store(false, std::memory_order_relaxed);
    }
    return;
  }
  if (!route.lean.load(std::memory_order_relaxed) &&
      wire::ReadsLeanUnary(reply.header(wire::kRevisionHeader))) {
    route.lean.store(true, std::memory_order_relaxed);
  }
}

std::vector<ReplyMux::Pending> ReplyMux::TakeAll(
    const std::string* only_subject) {
  std::vector<Pending> out;
  absl::MutexLock lock(&mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (only_subject == nullptr || it->second.subject() == *only_subject) {
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
        p.Finish(absl::UnavailableError(absl::StrCat(
                     what, " while waiting for the reply of ", p.subject())),
                 nullptr);
      }
      FailStreams(absl::UnavailableError(
                      absl::StrCat(what, " while a stream was open")),
                  nullptr);
      return;
    }
    case TransportEvent::Kind::kPermissionDenied: {
      if (!event.publish) {
        if (event.subject != wire::ResponseWildcard(requester_, client_id_))
          return;
        absl::Status broken = absl::PermissionDeniedError(absl::StrCat(
            "NATS refused the subscription to ", event.subject,
            ": the user may not subscribe to responses.", requester_, ".>"));
        {
          absl::MutexLock lock(&mu_);
          broken_ = broken;
        }
        for (Pending& p : TakeAll(nullptr)) p.Finish(broken, nullptr);
        FailStreams(broken, nullptr);
        return;
      }
      const absl::Status denied = absl::PermissionDeniedError(absl::StrCat(
          "NATS refused the publish to ", event.subject, ": ", event.message));
      for (Pending& p : TakeAll(&event.subject)) p.Finish(denied, nullptr);
      FailStreams(denied, &event.subject);
      return;
    }
    default:
      return;
  }
}

void ReplyMux::TimerLoop() {
  // Set by ~ReplyMux when it runs on this thread (see below).
  bool destroyed = false;
  timer_destroyed_ = &destroyed;
  std::vector<Pending> expired;
  std::vector<std::pair<std::string, std::shared_ptr<StreamEndpoint>>>
      expired_streams;
  while (true) {
    bool tick = false;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_) {
        absl::Time next = deadlines_.empty() ? absl::InfiniteFuture()
                                             : deadlines_.begin()->first;
        next = std::min(next, next_tick_);
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
          RememberTimeout(seq);
          continue;
        }
        // A stream stays routed until it has finished (its cancel is sent
        // below); the tick forgets it.
        auto st = streams_.find(seq);
        if (st != streams_.end()) {
          expired_streams.emplace_back(st->second.subject,
                                       st->second.stream->endpoint());
        }
      }
      if (next_tick_ <= now) {
        tick = true;
        next_tick_ = streams_.empty() ? absl::InfiniteFuture()
                                      : now + wire::kStreamTickPeriod;
      }
    }
    // A callback may drop the last Client (and Connection). Hold the mux
    // while callbacks run so that it is destroyed only when `self` goes,
    // below, where the loop can tell. Null when the last reference went on
    // another thread: ~ReplyMux is then waiting to join this thread, so
    // `this` stays valid until the loop sees `stopping_` and returns.
    std::shared_ptr<ReplyMux> self = weak_from_this().lock();
    timeouts_.fetch_add(expired.size() + expired_streams.size(),
                        std::memory_order_relaxed);
    for (Pending& p : expired) {
      p.Finish(absl::DeadlineExceededError(absl::StrCat(
                   "no reply from ", p.subject(), " by the deadline")),
               nullptr);
    }
    expired.clear();
    for (auto& [subject, endpoint] : expired_streams) {
      endpoint->Cancel(absl::DeadlineExceededError(
          absl::StrCat("the deadline of the stream on ", subject, " passed")));
    }
    expired_streams.clear();
    if (tick && self != nullptr) TickStreams();
    self.reset();  // may run ~ReplyMux on this thread
    if (destroyed) return;
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

}  // namespace natsrpc::internal
