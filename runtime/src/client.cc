// Copyright 2026 The natsrpc Authors.

#include "natsrpc/client.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "connection_state.h"
#include "natsrpc/names.h"
#include "natsrpc/status_macros.h"
#include "natsrpc/stream.h"
#include "reply_mux.h"
#include "stream_core.h"

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
  listener_id_ =
      transport_->AddEventListener([weak](const TransportEvent& event) {
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
  const std::string subject =
      RequestSubject(params.requester, params.responder, params.app,
                     params.service, params.method);
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
      next_tick_ = now + kStreamTickPeriod;
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
  const std::string cancel =
      absl::StrCat(*p.subject, ".cancel.", client_id_, ".", seq);
  const HeaderRef headers[] = {{kStreamHeader, "cancel"}};
  transport_->Publish(OutgoingMessage{cancel, "", headers, nullptr, ""})
      .IgnoreError();
  p.done(absl::CancelledError("the call was cancelled by the caller"), nullptr);
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
    done(absl::UnavailableError(
             absl::StrCat("cannot call ", subject, ": not connected to NATS")),
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
  std::shared_ptr<ClientStream> stream;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) {
      auto st = streams_.find(seq);
      if (st == streams_.end()) {
        replies_dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      stream = st->second.stream;
    } else {
      done = std::move(it->second.done);
      if (no_responders) request_subject = *it->second.subject;
      deadlines_.erase({it->second.deadline, seq});
      pending_.erase(it);
    }
  }
  if (stream != nullptr) {
    stream->OnReply(std::move(message));
    return;
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
      FailStreams(absl::UnavailableError(
                      absl::StrCat(what, " while a stream was open")),
                  nullptr);
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
        FailStreams(broken, nullptr);
        return;
      }
      const absl::Status denied = absl::PermissionDeniedError(absl::StrCat(
          "NATS refused the publish to ", event.subject, ": ", event.message));
      for (Pending& p : TakeAll(&event.subject)) p.done(denied, nullptr);
      FailStreams(denied, &event.subject);
      return;
    }
    default:
      return;
  }
}

void ReplyMux::TimerLoop() {
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
        next_tick_ =
            streams_.empty() ? absl::InfiniteFuture() : now + kStreamTickPeriod;
      }
    }
    for (Pending& p : expired) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      p.done(absl::DeadlineExceededError(absl::StrCat(
                 "no reply from ", *p.subject, " by the deadline")),
             nullptr);
    }
    expired.clear();
    for (auto& [subject, endpoint] : expired_streams) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      endpoint->Cancel(absl::DeadlineExceededError(
          absl::StrCat("the deadline of the stream on ", subject, " passed")));
    }
    expired_streams.clear();
    if (tick) TickStreams();
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
  return mux->Cancel(seq_);
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
  requester_ = options.requester;
  responder_ = options.responder;
  service_ = std::string(service);
  if (options.stream_window > 0) stream_window_ = options.stream_window;
  stream_heartbeat_ = options.stream_heartbeat > absl::ZeroDuration()
                          ? options.stream_heartbeat
                          : absl::Seconds(5);
  status_ = ValidateToken("ClientOptions.requester", options.requester);
  if (status_.ok()) {
    status_ = ValidateToken("ClientOptions.responder", options.responder);
  }
  if (status_.ok()) {
    status_ = ValidateToken(
        options.app.empty() ? "app (from the IDL)" : "ClientOptions.app", app_);
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
    const absl::Duration stream_timeout =
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : options.default_timeout;
    methods_.push_back(Method{
        std::make_shared<const std::string>(RequestSubject(
            options.requester, options.responder, app_, service, m.name)),
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : default_timeout_,
        std::string(m.name), std::max(stream_timeout, absl::ZeroDuration())});
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

  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) {
    done(metadata.status(), nullptr);
    return CallHandle();
  }
  return mux_->Start(m.subject, reply_prefix_, content_type, *metadata,
                     request.view(), deadline, std::move(done));
}

absl::StatusOr<const Metadata*> ClientChannel::CallMetadata(
    const CallOptions& options, Metadata& merged) const {
  if (options.metadata.empty()) {
    return metadata_.empty() ? nullptr : &metadata_;
  }
  NATSRPC_RETURN_IF_ERROR(ValidateMetadata(options.metadata));
  if (metadata_.empty()) return &options.metadata;
  merged = metadata_;
  merged.insert(merged.end(), options.metadata.begin(), options.metadata.end());
  return &merged;
}

std::shared_ptr<internal::StreamEndpoint> ClientChannel::OpenStream(
    int method, bool client_sends, const Payload* request,
    absl::string_view content_type, const CallOptions& options) {
  if (!status_.ok()) return internal::FailedStream(status_);
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    return internal::FailedStream(absl::InvalidArgumentError(
        absl::StrCat("no method number ", method, " in this client")));
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  const absl::Duration timeout = options.timeout > absl::ZeroDuration()
                                     ? options.timeout
                                     : m.stream_timeout;
  const absl::Time deadline =
      std::min(timeout > absl::ZeroDuration() ? absl::Now() + timeout
                                              : absl::InfiniteFuture(),
               options.deadline);
  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) return internal::FailedStream(metadata.status());
  internal::ClientStreamParams params;
  params.requester = requester_;
  params.responder = responder_;
  params.app = app_;
  params.service = service_;
  params.method = m.name;
  params.deadline = deadline;
  params.sends = client_sends;
  params.window = stream_window_;
  params.heartbeat = stream_heartbeat_;
  params.content_type = std::string(content_type);
  params.metadata = *metadata;
  if (request != nullptr) params.payload = std::string(request->view());
  return mux_->OpenStream(std::move(params));
}

ClientStats ClientChannel::stats() const {
  return mux_ == nullptr ? ClientStats() : mux_->stats();
}

}  // namespace natsrpc
