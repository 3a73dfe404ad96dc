// Copyright 2026 The natsrpc Authors.

#include "stream/stream_endpoint.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "wire/reply_metadata.h"
#include "wire/subjects.h"

namespace natsrpc::internal {
namespace {}  // namespace

absl::Status PublishCancel(Transport& transport, absl::string_view subject) {
  const HeaderRef headers[] = {
      {wire::kStreamHeader, wire::StreamFrameName(wire::StreamFrame::kCancel)}};
  return transport.Publish(OutgoingMessage{subject, "", headers, nullptr, ""});
}

StreamEndpoint::StreamEndpoint(std::shared_ptr<Transport> transport,
                               StreamEndpointOptions options)
    : transport_(std::move(transport)), options_([&] {
        StreamEndpointOptions o = std::move(options);
        o.window = std::max<uint64_t>(1, o.window);
        if (!o.clock) o.clock = [] { return absl::Now(); };
        return o;
      }()) {
  absl::MutexLock lock(&mu_);
  peer_subject_ = options_.peer_subject;
  send_credit_ = options_.initial_send_credit;
  send_byte_credit_ = options_.initial_send_byte_credit;
  window_ = options_.window;
  window_bytes_ = options_.receives ? options_.window_bytes : 0;
  granted_ = options_.receives ? window_ : 0;
  granted_bytes_ = window_bytes_;
  last_heard_ = last_sent_ = Now();
  heartbeat_interval_ = options_.heartbeat_interval;
  liveness_timeout_ = options_.liveness_timeout;
  if (!options_.sends)
    send_closed_ =
        absl::FailedPreconditionError("this side of the stream does not send");
}

absl::Time StreamEndpoint::Now() const { return options_.clock(); }

void StreamEndpoint::SetPeer(absl::string_view peer_subject, uint64_t credit,
                             std::optional<absl::Duration> heartbeat,
                             std::optional<uint64_t> byte_credit) {
  {
    absl::MutexLock lock(&mu_);
    if (byte_credit.has_value()) {
      // Revision 5 (protocol 9.5.1): the server bounds what it sends in
      // bytes too, so this side may grant more messages; the next Read
      // grants them.
      send_byte_credit_ = std::max(send_byte_credit_.value_or(0), *byte_credit);
      if (options_.receives && options_.window_with_byte_credit > window_) {
        window_ = options_.window_with_byte_credit;
      }
    } else {
      // A server of revision <= 4 ignores byte credit: bound messages only.
      window_bytes_ = 0;
    }
    if (heartbeat.has_value()) {
      heartbeat_interval_ = *heartbeat;
      liveness_timeout_ = wire::kLivenessHeartbeats * *heartbeat;
    }
    peer_subject_ = std::string(peer_subject);
    send_credit_ = std::max(send_credit_, credit);
    last_heard_ = Now();
    cv_.SignalAll();
  }
  CompleteAsync();
}

absl::Status StreamEndpoint::Publish(const Outgoing& out) {
  std::vector<HeaderRef> headers;
  headers.reserve(6);
  std::string seq, count, credit, credit_bytes;
  headers.push_back({wire::kStreamHeader, wire::StreamFrameName(out.frame)});
  if (out.frame == wire::StreamFrame::kMsg) {
    seq = absl::StrCat(out.seq);
    headers.push_back({wire::kSeqHeader, seq});
  } else {
    credit = absl::StrCat(out.credit);
    headers.push_back({wire::kCreditHeader, credit});
    if (out.credit_bytes.has_value()) {
      credit_bytes = absl::StrCat(*out.credit_bytes);
      headers.push_back({wire::kCreditBytesHeader, credit_bytes});
    }
  }
  if (out.frame == wire::StreamFrame::kEnd) {
    count = absl::StrCat(out.count);
    headers.push_back({wire::kCountHeader, count});
  }
  const wire::StatusHeaders error(out.status);
  error.AppendTo(headers);
  // Revision 3: an error end carries the exact status as its body.
  std::string body;
  absl::string_view payload = out.payload;
  if (out.frame == wire::StreamFrame::kEnd && !out.status.ok()) {
    body = wire::EncodeStatusBody(out.status);
    payload = body;
  }
  if (transport_ == nullptr) {
    return absl::UnavailableError("the stream has no connection");
  }
  absl::Status s = transport_->Publish(OutgoingMessage{
      out.subject, {}, absl::MakeConstSpan(headers), out.metadata, payload});
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    last_sent_ = Now();
  }
  return s;
}

void StreamEndpoint::Fail(absl::Status status, bool notify_peer) {
  if (status.ok()) status = absl::InternalError("stream failed");
  Outgoing cancel;
  cancel.frame = wire::StreamFrame::kCancel;
  {
    absl::MutexLock lock(&mu_);
    if (failing_) return;
    failing_ = true;
    cancel.subject = peer_subject_;
    FillCreditLocked(cancel);
    cancel.status = status;
  }
  if (notify_peer && !cancel.subject.empty()) {
    // Best effort: the peer also notices our silence.
    Publish(cancel).IgnoreError();
  } else if (notify_peer && options_.cancel_before_peer) {
    options_.cancel_before_peer();
  }
  // Before the failure becomes visible, so that a handler whose Read or
  // Write fails already finds its context cancelled.
  if (options_.on_failure) options_.on_failure(status);
  {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
    cv_.SignalAll();
  }
  CompleteAsync();
}

absl::Status StreamEndpoint::Write(absl::string_view payload,
                                   const Metadata* metadata,
                                   absl::Time deadline) {
  absl::MutexLock write_lock(&write_mu_);
  Outgoing out;
  out.frame = wire::StreamFrame::kMsg;
  {
    absl::MutexLock lock(&mu_);
    if (pending_write_.has_value() || async_publishing_) {
      return absl::FailedPreconditionError("Write while a WriteAsync waits");
    }
    // Waiting for the accept (no peer yet) is not a stall.
    if (failure_.ok() && send_closed_.ok() && !end_sent_ &&
        !HasSendCreditLocked() && !peer_subject_.empty()) {
      CountCreditStall();
    }
    while (failure_.ok() && send_closed_.ok() && !end_sent_ &&
           !HasSendCreditLocked()) {
      if (cv_.WaitWithDeadline(&mu_, deadline) && !HasSendCreditLocked() &&
          failure_.ok() && send_closed_.ok() && !end_sent_) {
        return absl::DeadlineExceededError(
            "no credit from the stream's reader before the deadline");
      }
    }
    if (!failure_.ok()) return failure_;
    if (!send_closed_.ok()) return send_closed_;
    if (end_sent_) {
      return absl::FailedPreconditionError("Write after WritesDone");
    }
    out.seq = ++sent_;
    sent_bytes_ += payload.size();
    out.subject = peer_subject_;
  }
  Metadata first;
  if (metadata == nullptr && out.seq == 1 && first_message_metadata_) {
    first = first_message_metadata_();
    if (!first.empty()) metadata = &first;
  }
  out.metadata = metadata;
  out.payload = payload;
  absl::Status s = Publish(out);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    ++stats_.sent;
    return s;
  }
  if (s.code() == absl::StatusCode::kUnavailable) {
    Fail(s, /*notify_peer=*/false);
    return s;
  }
  // Not sent: the seq is free again (write_mu_ keeps other writers out).
  absl::MutexLock lock(&mu_);
  --sent_;
  sent_bytes_ -= payload.size();
  return s;
}

absl::Status StreamEndpoint::WritesDone(const absl::Status& status,
                                        const Metadata* trailers,
                                        absl::Time deadline) {
  absl::MutexLock write_lock(&write_mu_);
  Outgoing out;
  out.frame = wire::StreamFrame::kEnd;
  {
    absl::MutexLock lock(&mu_);
    // A client that has not been accepted yet waits for the accept.
    while (peer_subject_.empty() && failure_.ok() && send_closed_.ok()) {
      if (cv_.WaitWithDeadline(&mu_, deadline) && peer_subject_.empty() &&
          failure_.ok() && send_closed_.ok()) {
        return absl::DeadlineExceededError(
            "stream not accepted before the deadline");
      }
    }
    if (!failure_.ok()) return failure_;
    if (!send_closed_.ok()) return send_closed_;
    if (end_sent_) return absl::FailedPreconditionError("WritesDone twice");
    if (pending_write_.has_value() || async_publishing_) {
      return absl::FailedPreconditionError(
          "WritesDone while a WriteAsync waits");
    }
    end_sent_ = true;
    out.subject = peer_subject_;
    out.count = sent_;
    FillCreditLocked(out);
    out.status = status;
  }
  out.metadata = trailers;
  absl::Status s = Publish(out);
  if (!s.ok() && s.code() == absl::StatusCode::kUnavailable) {
    Fail(s, /*notify_peer=*/false);
  }
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    cv_.SignalAll();
  }
  return s;
}

bool StreamEndpoint::TakeLocked(StreamRead& result, Outgoing& credit) {
  if (!options_.receives) {
    result = {nullptr, absl::FailedPreconditionError(
                           "this side of the stream does not receive")};
    return true;
  }
  if (!failure_.ok()) {
    result = {nullptr, failure_};
    return true;
  }
  auto it = buffer_.begin();
  if (it != buffer_.end() && it->first == consumed_ + 1) {
    result = {std::move(it->second), absl::OkStatus()};
    buffer_.erase(it);
    ++consumed_;
    consumed_bytes_ += result.message->data().size();
    ++stats_.consumed;
    // Grant more once half the window (in messages or, revision 5, in
    // bytes) is used, so the writer rarely waits and the credit traffic is
    // one message per half window.
    const bool low_messages = granted_ - consumed_ <= window_ / 2;
    const bool low_bytes =
        window_bytes_ > 0 &&
        consumed_bytes_ + window_bytes_ / 2 >= granted_bytes_;
    if (!end_count_.has_value() && !peer_subject_.empty() &&
        (low_messages || low_bytes)) {
      granted_ = std::max(granted_, consumed_ + window_);
      if (window_bytes_ > 0) {
        granted_bytes_ =
            std::max(granted_bytes_, consumed_bytes_ + window_bytes_);
      }
      credit.frame = wire::StreamFrame::kCredit;
      credit.subject = peer_subject_;
      FillCreditLocked(credit);
    }
    return true;
  }
  if (end_count_.has_value() && consumed_ == *end_count_) {
    end_read_ = true;
    result = {nullptr, end_status_};
    return true;
  }
  return false;
}

void StreamEndpoint::SendCredit(const Outgoing& credit) {
  if (credit.subject.empty()) return;
  absl::Status s = Publish(credit);
  // A lost credit is repaired by the next ping, which repeats it.
  if (s.code() == absl::StatusCode::kUnavailable) {
    Fail(s, /*notify_peer=*/false);
  }
}

StreamRead StreamEndpoint::Read(absl::Time deadline) {
  Outgoing credit;
  StreamRead result;
  {
    absl::MutexLock lock(&mu_);
    if (read_callback_) {
      return {nullptr,
              absl::FailedPreconditionError("Read while a ReadAsync waits")};
    }
    while (!TakeLocked(result, credit)) {
      if (cv_.WaitWithDeadline(&mu_, deadline) && !TakeLocked(result, credit)) {
        return {nullptr, absl::DeadlineExceededError(
                             "no stream message before the deadline")};
      }
    }
  }
  SendCredit(credit);
  if (result.message == nullptr && options_.on_read_end) {
    options_.on_read_end(result.status);
  }
  return result;
}

void StreamEndpoint::ReadAsync(absl::AnyInvocable<void(StreamRead)> done) {
  Outgoing credit;
  StreamRead result;
  {
    absl::MutexLock lock(&mu_);
    if (read_callback_) {
      result = {nullptr, absl::FailedPreconditionError(
                             "ReadAsync while another one waits")};
    } else if (!TakeLocked(result, credit)) {
      read_callback_ = std::move(done);
      return;
    }
  }
  SendCredit(credit);
  if (result.message == nullptr && options_.on_read_end) {
    options_.on_read_end(result.status);
  }
  done(std::move(result));
}

void StreamEndpoint::CompleteAsync() {
  // A pending read.
  {
    Outgoing credit;
    StreamRead result;
    absl::AnyInvocable<void(StreamRead)> done;
    {
      absl::MutexLock lock(&mu_);
      if (read_callback_ && TakeLocked(result, credit)) {
        done = std::move(read_callback_);
        read_callback_ = nullptr;
      }
    }
    if (done) {
      SendCredit(credit);
      if (result.message == nullptr && options_.on_read_end) {
        options_.on_read_end(result.status);
      }
      done(std::move(result));
    }
  }
  // A pending write.
  PendingWrite write;
  Outgoing out;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (!pending_write_.has_value() || async_publishing_) return;
    if (!failure_.ok()) {
      status = failure_;
    } else if (!send_closed_.ok()) {
      status = send_closed_;
    } else if (end_sent_) {
      status = absl::FailedPreconditionError(pending_write_->is_end
                                                 ? "WritesDone twice"
                                                 : "Write after WritesDone");
    } else if (pending_write_->is_end) {
      if (peer_subject_.empty()) return;  // waits for the accept
      end_sent_ = true;
      out.frame = wire::StreamFrame::kEnd;
      out.count = sent_;
      FillCreditLocked(out);
      out.subject = peer_subject_;
      async_publishing_ = true;
    } else if (!HasSendCreditLocked()) {
      if (!pending_write_->stalled && !peer_subject_.empty()) {
        pending_write_->stalled = true;
        CountCreditStall();
      }
      return;  // waits for credit
    } else {
      out.frame = wire::StreamFrame::kMsg;
      out.seq = ++sent_;
      sent_bytes_ += pending_write_->payload.size();
      out.subject = peer_subject_;
      async_publishing_ = true;
    }
    write = *std::move(pending_write_);
    pending_write_.reset();
  }
  if (status.ok()) {
    out.payload = write.payload;
    out.metadata = write.has_metadata ? &write.metadata : nullptr;
    status = Publish(out);
    bool fail = false;
    {
      absl::MutexLock lock(&mu_);
      async_publishing_ = false;
      if (status.ok()) {
        if (out.frame == wire::StreamFrame::kMsg) ++stats_.sent;
        cv_.SignalAll();
      } else if (status.code() == absl::StatusCode::kUnavailable) {
        fail = true;
      } else if (out.frame == wire::StreamFrame::kEnd) {
        end_sent_ = false;  // not sent: may be retried
      } else {
        --sent_;  // not sent: the seq is free again
        sent_bytes_ -= write.payload.size();
      }
    }
    if (fail) Fail(status, /*notify_peer=*/false);
  }
  write.done(status);
}

void StreamEndpoint::WriteAsync(std::string payload, const Metadata* metadata,
                                absl::AnyInvocable<void(absl::Status)> done) {
  PendingWrite w;
  w.payload = std::move(payload);
  if (metadata != nullptr) {
    w.metadata = *metadata;
    w.has_metadata = true;
  }
  w.done = std::move(done);
  QueueAsyncWrite(std::move(w), "WriteAsync while another one waits");
}

void StreamEndpoint::WritesDoneAsync(
    absl::AnyInvocable<void(absl::Status)> done) {
  PendingWrite w;
  w.is_end = true;
  w.done = std::move(done);
  QueueAsyncWrite(std::move(w), "WritesDoneAsync while a WriteAsync waits");
}

void StreamEndpoint::QueueAsyncWrite(PendingWrite write,
                                     absl::string_view busy_error) {
  {
    absl::MutexLock lock(&mu_);
    if (!pending_write_.has_value() && !async_publishing_) {
      pending_write_ = std::move(write);
      write.done = nullptr;
    }
  }
  if (write.done) {
    write.done(absl::FailedPreconditionError(busy_error));
    return;
  }
  CompleteAsync();
}

void StreamEndpoint::Cancel(absl::Status why) {
  Fail(std::move(why), /*notify_peer=*/true);
}

void StreamEndpoint::OnPeerCancel(absl::Status why) {
  Fail(std::move(why), /*notify_peer=*/false);
}

void StreamEndpoint::SetFirstMessageMetadata(std::function<Metadata()> source) {
  absl::MutexLock lock(&write_mu_);
  first_message_metadata_ = std::move(source);
}

Metadata StreamEndpoint::initial_metadata() const {
  absl::MutexLock lock(&mu_);
  return initial_metadata_;
}

Metadata StreamEndpoint::trailing_metadata() const {
  absl::MutexLock lock(&mu_);
  return trailing_metadata_;
}

void StreamEndpoint::AddInitialMetadata(const Metadata& headers) {
  Metadata unused;
  absl::MutexLock lock(&mu_);
  wire::SplitMetadata(headers, {}, initial_metadata_, unused);
}

void StreamEndpoint::OnMessage(MessagePtr message) {
  std::optional<wire::StreamFrame> frame;
  if (auto v = message->header(wire::kStreamHeader))
    frame = wire::ParseStreamFrame(*v);
  absl::Status violation;
  absl::Status peer_cancel;
  {
    absl::MutexLock lock(&mu_);
    if (failing_) return;
    if (end_sent_ && options_.own_end_ends_stream) return;
    last_heard_ = Now();
    if (frame != wire::StreamFrame::kMsg) {
      if (std::optional<uint64_t> c =
              wire::ParseCounter(message->header(wire::kCreditHeader))) {
        if (*c > send_credit_) {
          send_credit_ = *c;
          stats_.send_credit = send_credit_;
          cv_.SignalAll();
        }
      }
      // Revision 5: byte credit, once the open or accept established it (a
      // later one never adds a bound the peer did not announce at first).
      if (send_byte_credit_.has_value()) {
        if (std::optional<uint64_t> b =
                wire::ParseCounter(message->header(wire::kCreditBytesHeader));
            b.has_value() && *b > *send_byte_credit_) {
          send_byte_credit_ = *b;
          cv_.SignalAll();
        }
      }
    }
    if (!frame.has_value()) {
      violation =
          absl::InternalError("stream message without a valid " +
                              std::string(wire::kStreamHeader) + " header");
    } else {
      switch (*frame) {
        case wire::StreamFrame::kMsg: {
          std::optional<uint64_t> seq =
              wire::ParseCounter(message->header(wire::kSeqHeader));
          if (!options_.receives) {
            violation = absl::InternalError("data on a send-only stream");
          } else if (!seq.has_value() || *seq == 0) {
            violation = absl::InternalError("stream message without a seq");
          } else if (*seq <= consumed_ || buffer_.contains(*seq)) {
            ++stats_.duplicates;
          } else if (end_count_.has_value()) {
            violation = absl::DataLossError(
                absl::StrCat("stream message ", *seq, " after the end (count ",
                             *end_count_, ")"));
          } else if (*seq > granted_) {
            violation = absl::ResourceExhaustedError(absl::StrCat(
                "peer sent message ", *seq, " beyond its credit ", granted_));
          } else if (window_bytes_ > 0 && received_bytes_ >= granted_bytes_) {
            violation = absl::ResourceExhaustedError(absl::StrCat(
                "peer sent message ", *seq, " after ", received_bytes_,
                " payload bytes, beyond its byte credit ", granted_bytes_));
          } else {
            if (*seq == 1) {
              Metadata unused;
              wire::SplitMetadata(message->headers(), {}, initial_metadata_,
                                  unused);
            }
            received_bytes_ += message->data().size();
            stats_.max_buffered_bytes = std::max<uint64_t>(
                stats_.max_buffered_bytes, received_bytes_ - consumed_bytes_);
            buffer_.emplace(*seq, std::move(message));
            ++stats_.received;
            stats_.max_buffered =
                std::max<uint64_t>(stats_.max_buffered, buffer_.size());
            cv_.SignalAll();
          }
          break;
        }
        case wire::StreamFrame::kEnd: {
          std::optional<uint64_t> count =
              wire::ParseCounter(message->header(wire::kCountHeader));
          if (!options_.receives && !options_.peer_end_closes_send) {
            violation = absl::InternalError("end on a send-only stream");
          } else if (end_count_.has_value()) {
            break;  // duplicate end
          } else if (!count.has_value()) {
            violation = absl::InternalError("stream end without a count");
          } else if (options_.receives &&
                     (buffer_.size() != *count - std::min(*count, consumed_) ||
                      consumed_ > *count ||
                      (!buffer_.empty() && buffer_.rbegin()->first > *count))) {
            violation = absl::DataLossError(
                absl::StrCat("stream ended with count ", *count, " but ",
                             consumed_ + buffer_.size(), " messages arrived (",
                             "missing or extra messages)"));
          } else {
            end_count_ = *count;
            wire::SplitMetadata(message->headers(), wire::kInitialPrefix,
                                trailing_metadata_, initial_metadata_);
            end_status_ = wire::StatusFromErrorReply(
                message->header(wire::kErrorCodeHeader),
                message->header(wire::kErrorHeader), message->data());
            if (!options_.receives) end_read_ = true;
            if (options_.peer_end_closes_send && send_closed_.ok()) {
              send_closed_ = end_status_.ok()
                                 ? absl::FailedPreconditionError(
                                       "the peer has finished the stream")
                                 : end_status_;
            }
            cv_.SignalAll();
          }
          break;
        }
        case wire::StreamFrame::kCancel: {
          peer_cancel = wire::StatusFromErrorReply(
              message->header(wire::kErrorCodeHeader),
              message->header(wire::kErrorHeader), message->data());
          if (peer_cancel.ok()) {
            peer_cancel = absl::CancelledError("cancelled by the peer");
          }
          break;
        }
        case wire::StreamFrame::kCredit:
        case wire::StreamFrame::kPing:
          break;
        case wire::StreamFrame::kOpen:
        case wire::StreamFrame::kAccept:
          // Handled by the owner; a repeat is harmless.
          break;
      }
    }
  }
  if (!violation.ok()) {
    Fail(std::move(violation), /*notify_peer=*/true);
  } else if (!peer_cancel.ok()) {
    Fail(std::move(peer_cancel), /*notify_peer=*/false);
  } else {
    CompleteAsync();
  }
}

void StreamEndpoint::Tick() {
  Outgoing ping;
  ping.frame = wire::StreamFrame::kPing;
  absl::Status silence;
  {
    absl::MutexLock lock(&mu_);
    if (failing_) return;
    if (end_sent_ && options_.own_end_ends_stream) return;
    bool send_done = !options_.sends || end_sent_ || !send_closed_.ok();
    bool receive_done = !options_.receives || end_read_ || end_count_;
    if (send_done && receive_done) return;
    absl::Time now = Now();
    if (now >= options_.deadline) {
      silence = absl::DeadlineExceededError("the stream's deadline passed");
    } else if (now - last_heard_ >= liveness_timeout_) {
      silence =
          absl::Status(options_.silence_code,
                       absl::StrCat("no message from the stream's peer for ",
                                    absl::FormatDuration(now - last_heard_)));
    } else if (now - last_sent_ >= heartbeat_interval_ &&
               !peer_subject_.empty()) {
      ping.subject = peer_subject_;
      FillCreditLocked(ping);
      ++stats_.pings_sent;
    }
  }
  if (!silence.ok()) {
    Fail(std::move(silence), /*notify_peer=*/true);
  } else if (!ping.subject.empty()) {
    absl::Status s = Publish(ping);
    if (s.code() == absl::StatusCode::kUnavailable) {
      Fail(s, /*notify_peer=*/false);
    }
  }
}

absl::Status StreamEndpoint::failure() const {
  absl::MutexLock lock(&mu_);
  return failure_;
}

bool StreamEndpoint::finished() const {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return true;
  if (end_sent_ && options_.own_end_ends_stream) return true;
  bool send_done = !options_.sends || end_sent_ || !send_closed_.ok();
  bool receive_done = !options_.receives || end_read_;
  return send_done && receive_done;
}

void StreamEndpoint::CountCreditStall() {
  ++stats_.credit_stalls;
  if (options_.credit_stalls != nullptr) {
    options_.credit_stalls->fetch_add(1, std::memory_order_relaxed);
  }
}

StreamEndpointStats StreamEndpoint::stats() const {
  absl::MutexLock lock(&mu_);
  StreamEndpointStats s = stats_;
  s.granted = granted_;
  s.send_credit = send_credit_;
  s.granted_bytes = granted_bytes_;
  s.sent_bytes = sent_bytes_;
  return s;
}

uint64_t StreamEndpoint::window() const {
  absl::MutexLock lock(&mu_);
  return window_;
}

uint64_t StreamEndpoint::window_bytes() const {
  absl::MutexLock lock(&mu_);
  return window_bytes_;
}

void StreamEndpoint::FillCreditLocked(Outgoing& out) const {
  out.credit = granted_;
  if (window_bytes_ > 0) out.credit_bytes = granted_bytes_;
}

bool StreamEndpoint::HasSendCreditLocked() const {
  return sent_ < send_credit_ &&
         (!send_byte_credit_.has_value() || sent_bytes_ < *send_byte_credit_);
}

}  // namespace natsrpc::internal
