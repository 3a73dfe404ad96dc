// Copyright 2026 The natsrpc Authors.

#include "stream/server_stream_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "natsrpc/metadata.h"
#include "wire/status_body.h"
#include "wire/subjects.h"

namespace natsrpc::internal {

ServerStreamTable::ServerStreamTable(std::string instance_id)
    : instance_id_(std::move(instance_id)) {}

std::string ServerStreamTable::AddStream(
    const StreamOrigin& origin, absl::string_view reply_to,
    std::shared_ptr<StreamEndpoint> endpoint) {
  std::string subject;
  bool cancelled = false;
  {
    absl::MutexLock lock(&mu_);
    subject = wire::StreamSubject(
        origin.requester, origin.responder, origin.app, origin.service,
        origin.method, instance_id_, absl::StrCat(next_stream_id_++));
    if (std::optional<EarlyCancel> early = TakeEarlyCancel(reply_to)) {
      // The service and method must be those of the stream too.
      cancelled =
          early->service == origin.service && early->method == origin.method;
      if (cancelled) ++stats_.cancels_applied_early;
    }
    stream_by_reply_[reply_to] = subject;
    streams_[subject] = Entry{origin, std::string(reply_to), endpoint};
  }
  if (cancelled) {
    endpoint->OnPeerCancel(absl::CancelledError("cancelled by the client"));
  }
  return subject;
}

void ServerStreamTable::RemoveStream(absl::string_view stream_subject) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(stream_subject);
  if (it == streams_.end()) return;
  stream_by_reply_.erase(it->second.reply_to);
  streams_.erase(it);
}

size_t ServerStreamTable::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

bool ServerStreamTable::RouteStreamMessage(MessagePtr message) {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<wire::StreamSubjectParts> parts =
        wire::ParseStreamSubject(message->subject());
    if (!parts.ok() || parts->instance_id != instance_id_) {
      ++stats_.dropped_malformed;
      return false;
    }
    auto it = streams_.find(message->subject());
    if (it == streams_.end()) {
      ++stats_.dropped_unknown;
      return false;
    }
    // The subject is the key, so its tokens equal those the stream was
    // opened with; check anyway, so that a change of the key cannot open a
    // hole (protocol 9.2).
    const StreamOrigin& o = it->second.origin;
    if (parts->requester != o.requester || parts->responder != o.responder ||
        parts->app != o.app || parts->service != o.service ||
        parts->method != o.method) {
      ++stats_.dropped_mismatch;
      return false;
    }
    ++stats_.routed;
    endpoint = it->second.endpoint;
  }
  endpoint->OnMessage(std::move(message));
  return true;
}

void ServerStreamTable::AddCall(absl::string_view reply_to,
                                std::function<void()> cancel) {
  {
    absl::MutexLock lock(&mu_);
    if (!TakeEarlyCancel(reply_to).has_value()) {
      calls_[reply_to] = std::move(cancel);
      return;
    }
    ++stats_.cancels_applied_early;
  }
  cancel();
}

std::optional<ServerStreamTable::EarlyCancel>
ServerStreamTable::TakeEarlyCancel(absl::string_view reply_to) {
  if (early_.empty()) return std::nullopt;
  const absl::Time now = absl::Now();
  while (!early_order_.empty() && early_order_.front().first <= now) {
    auto it = early_.find(early_order_.front().second);
    if (it != early_.end() && it->second.expires <= now) early_.erase(it);
    early_order_.pop_front();
  }
  auto it = early_.find(reply_to);
  if (it == early_.end() || it->second.expires <= now) return std::nullopt;
  EarlyCancel cancel = std::move(it->second);
  early_.erase(it);
  return cancel;
}

void ServerStreamTable::RememberCancel(std::string reply_to,
                                       EarlyCancel cancel) {
  // early_order_ holds every remembered entry (applied ones until they
  // reach its front), so bounding it bounds both.
  while (early_order_.size() >= kMaxEarlyCancels) {
    auto it = early_.find(early_order_.front().second);
    if (it != early_.end() &&
        it->second.expires == early_order_.front().first) {
      early_.erase(it);
    }
    early_order_.pop_front();
  }
  ++stats_.cancels_remembered;
  early_order_.emplace_back(cancel.expires, reply_to);
  early_[std::move(reply_to)] = std::move(cancel);
}

size_t ServerStreamTable::early_cancels() const {
  absl::MutexLock lock(&mu_);
  return early_.size();
}

void ServerStreamTable::RemoveCall(absl::string_view reply_to) {
  absl::MutexLock lock(&mu_);
  calls_.erase(reply_to);
}

bool ServerStreamTable::RouteCancel(const IncomingMessage& message) {
  absl::StatusOr<std::string> reply_to =
      wire::CancelTargetReplyTo(message.subject());
  std::function<void()> call_cancel;
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    if (!reply_to.ok()) {
      ++stats_.dropped_malformed;
      return false;
    }
    if (auto it = calls_.find(*reply_to); it != calls_.end()) {
      call_cancel = std::move(it->second);
      calls_.erase(it);
    } else if (auto s = stream_by_reply_.find(*reply_to);
               s != stream_by_reply_.end()) {
      auto e = streams_.find(s->second);
      if (e != streams_.end()) {
        // The service and method must be those of the stream too.
        std::vector<absl::string_view> t =
            absl::StrSplit(message.subject(), '.');
        if (t[4] == e->second.origin.service &&
            t[5] == e->second.origin.method) {
          endpoint = e->second.endpoint;
        }
      }
    }
    if (!call_cancel && endpoint == nullptr) {
      ++stats_.cancels_unknown;
      if (stream_by_reply_.find(*reply_to) == stream_by_reply_.end()) {
        std::vector<absl::string_view> t =
            absl::StrSplit(message.subject(), '.');
        RememberCancel(*std::move(reply_to),
                       EarlyCancel{std::string(t[4]), std::string(t[5]),
                                   absl::Now() + kEarlyCancelTtl});
      }
      return false;
    }
    ++stats_.cancels_applied;
  }
  if (call_cancel) call_cancel();
  if (endpoint != nullptr) {
    // The peer asked for it: no cancel is sent back.
    endpoint->OnPeerCancel(absl::CancelledError("cancelled by the client"));
  }
  return true;
}

void ServerStreamTable::TickAll() {
  std::vector<std::pair<std::string, std::shared_ptr<StreamEndpoint>>> all;
  {
    absl::MutexLock lock(&mu_);
    all.reserve(streams_.size());
    for (const auto& [subject, entry] : streams_) {
      all.emplace_back(subject, entry.endpoint);
    }
  }
  for (auto& [subject, endpoint] : all) {
    endpoint->Tick();
    if (endpoint->finished()) RemoveStream(subject);
  }
}

void ServerStreamTable::CancelAll(const absl::Status& status) {
  std::vector<std::shared_ptr<StreamEndpoint>> all;
  {
    absl::MutexLock lock(&mu_);
    all.reserve(streams_.size());
    for (const auto& [subject, entry] : streams_) {
      all.push_back(entry.endpoint);
    }
  }
  for (auto& endpoint : all) endpoint->Cancel(status);
}

ServerStreamTableStats ServerStreamTable::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Duration NegotiateHeartbeat(std::optional<absl::string_view> proposed,
                                  absl::Duration server_min) {
  if (!proposed.has_value()) return server_min;
  absl::StatusOr<absl::Duration> d = wire::DecodeTimeout(*proposed);
  if (!d.ok() || *d <= absl::ZeroDuration()) return server_min;
  return std::max(*d, server_min);
}

absl::StatusOr<AcceptInfo> CheckAccept(const IncomingMessage& message,
                                       absl::string_view open_subject,
                                       absl::Duration default_heartbeat) {
  if (message.is_no_responders()) {
    return absl::UnavailableError(
        absl::StrCat("no responders for ", open_subject));
  }
  std::optional<absl::string_view> kind = message.header(wire::kStreamHeader);
  if (!kind.has_value()) {
    // A unary reply (OK or error): a server without streams (protocol
    // revision 1) answered the open as a call (docs/protocol.md 9.3.4).
    // Never report it as a stream that ended OK.
    const absl::Status said = wire::StatusFromErrorReply(
        message.header(wire::kErrorCodeHeader),
        message.header(wire::kErrorHeader), message.data());
    return absl::UnimplementedError(absl::StrCat(
        "the server answered the stream open on ", open_subject,
        " with a unary reply (", said.ok() ? "OK" : said.ToString(),
        "): it does not implement streams"));
  }
  if (wire::ParseStreamFrame(*kind) != wire::StreamFrame::kAccept) {
    // A refusal: an end with count 0 and the status.
    absl::Status status = wire::StatusFromErrorReply(
        message.header(wire::kErrorCodeHeader),
        message.header(wire::kErrorHeader), message.data());
    if (!status.ok()) return status;
    return absl::InternalError(
        absl::StrCat("stream reply to ", open_subject, " is not an accept (",
                     wire::kStreamHeader, ": ", *kind, ")"));
  }
  absl::StatusOr<wire::StreamSubjectParts> parts =
      wire::ParseStreamSubject(message.reply());
  if (!parts.ok() ||
      !absl::StartsWith(message.reply(), absl::StrCat(open_subject, "."))) {
    return absl::InternalError(
        absl::StrCat("accept names stream subject \"", message.reply(),
                     "\", which does not extend \"", open_subject, "\""));
  }
  AcceptInfo info;
  info.stream_subject = std::string(message.reply());
  std::optional<absl::string_view> credit = message.header(wire::kCreditHeader);
  if (!credit.has_value() || !wire::ParseSeq(*credit, info.credit)) {
    return absl::InternalError("accept without a valid Natsrpc-Credit");
  }
  if (std::optional<absl::string_view> bytes =
          message.header(wire::kCreditBytesHeader)) {
    info.credit_bytes = wire::ParseCounter(bytes);
    if (!info.credit_bytes.has_value()) {
      return absl::InternalError(absl::StrCat("accept has a malformed ",
                                              wire::kCreditBytesHeader, " \"",
                                              *bytes, "\""));
    }
  }
  info.heartbeat = default_heartbeat;
  if (auto hb = message.header(wire::kHeartbeatHeader)) {
    absl::StatusOr<absl::Duration> d = wire::DecodeTimeout(*hb);
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return absl::InternalError(
          absl::StrCat("accept has a bad Natsrpc-Heartbeat \"", *hb, "\""));
    }
    info.heartbeat = *d;
  }
  return info;
}

}  // namespace natsrpc::internal
