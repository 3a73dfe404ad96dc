// Copyright 2026 The natsrpc Authors.
//
// The untyped bridge between natsrpc/stream.h and the stream core.

#include <utility>

#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/stream.h"
#include "stream/stream_endpoint.h"

namespace natsrpc::internal {

absl::Status StreamWriteBytes(StreamEndpoint& e, absl::string_view bytes,
                              absl::Time deadline) {
  return e.Write(bytes, nullptr, deadline);
}

absl::Status StreamReadMessage(StreamEndpoint& e, absl::Time deadline,
                               MessagePtr& out) {
  StreamRead r = e.Read(deadline);
  out = std::move(r.message);
  return out != nullptr ? absl::OkStatus() : r.status;
}

absl::Status StreamSendEnd(StreamEndpoint& e, const absl::Status& status,
                           const Metadata* trailers, absl::Time deadline) {
  return e.WritesDone(status, trailers, deadline);
}

void StreamCancel(StreamEndpoint& e, absl::Status why) {
  e.Cancel(std::move(why));
}

absl::Status StreamFailure(const StreamEndpoint& e) { return e.failure(); }

}  // namespace natsrpc::internal

namespace natsrpc::internal {

absl::Time StreamDeadline(const StreamEndpoint& e) { return e.deadline(); }

Metadata StreamInitialMetadata(const StreamEndpoint& e) {
  return e.initial_metadata();
}

Metadata StreamTrailingMetadata(const StreamEndpoint& e) {
  return e.trailing_metadata();
}

StreamStats GetStreamStats(const StreamEndpoint& e) {
  const StreamEndpointStats s = e.stats();
  StreamStats out;
  out.sent = s.sent;
  out.received = s.received;
  out.consumed = s.consumed;
  out.max_buffered = s.max_buffered;
  out.window = e.window();
  out.max_buffered_bytes = s.max_buffered_bytes;
  out.window_bytes = e.window_bytes();
  out.credit_stalls = s.credit_stalls;
  return out;
}

void StreamAbandon(StreamEndpoint& e) {
  if (!e.finished()) {
    e.Cancel(absl::CancelledError(
        "the stream object was destroyed before the stream ended"));
  }
}

std::shared_ptr<StreamEndpoint> FailedStream(absl::Status status) {
  auto endpoint =
      std::make_shared<StreamEndpoint>(nullptr, StreamEndpointOptions());
  endpoint->OnPeerCancel(std::move(status));
  return endpoint;
}

void ReactorCore::Bind(std::shared_ptr<StreamEndpoint> endpoint, Hooks hooks) {
  bool read, cancel, writes_done;
  {
    absl::MutexLock lock(&mu_);
    hooks_ = std::move(hooks);
    endpoint_ = std::move(endpoint);
    read = std::exchange(read_queued_, false);
    cancel = std::exchange(cancel_queued_, false);
    writes_done = writes_done_wanted_ && !writing_;
  }
  if (cancel) Cancel();
  if (read) StartRead();
  if (writes_done) IssueWritesDone();
}

void ReactorCore::StartRead() {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    if (endpoint_ == nullptr) {
      read_queued_ = true;
      return;
    }
    if (reading_ || done_) return;
    reading_ = true;
    endpoint = endpoint_;
  }
  endpoint->ReadAsync([self = shared_from_this()](StreamRead r) {
    self->OnRead(std::move(r.message), std::move(r.status));
  });
}

void ReactorCore::OnRead(MessagePtr message, absl::Status status) {
  bool ok = false;
  if (message != nullptr) {
    status = hooks_.decode(message);
    ok = status.ok();
    if (!ok) {
      std::shared_ptr<StreamEndpoint> endpoint;
      {
        absl::MutexLock lock(&mu_);
        endpoint = endpoint_;
      }
      endpoint->Cancel(status);
    }
  }
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (!ok && !final_known_) {
      final_known_ = true;
      final_ = status;
    }
  }
  if (hooks_.read_done) hooks_.read_done(ok);
  MaybeDone();
}

void ReactorCore::StartWrite(absl::StatusOr<std::string> payload) {
  std::shared_ptr<StreamEndpoint> endpoint;
  bool busy = false;
  {
    absl::MutexLock lock(&mu_);
    endpoint = endpoint_;
    busy = writing_ || writes_done_wanted_ || done_;
    if (endpoint != nullptr && !busy && payload.ok()) writing_ = true;
  }
  if (endpoint == nullptr || busy || !payload.ok()) {
    // Not started: reported at once, like a write on a finished stream.
    if (hooks_.write_done) hooks_.write_done(false);
    return;
  }
  endpoint->WriteAsync(*std::move(payload), nullptr,
                       [self = shared_from_this()](absl::Status s) {
                         self->OnWrite(false, std::move(s));
                       });
}

void ReactorCore::StartWritesDone() {
  bool now;
  {
    absl::MutexLock lock(&mu_);
    if (writes_done_wanted_) return;
    writes_done_wanted_ = true;
    now = endpoint_ != nullptr && !writing_;
  }
  if (now) IssueWritesDone();
}

void ReactorCore::IssueWritesDone() {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    if (writes_done_issued_ || endpoint_ == nullptr) return;
    writes_done_issued_ = true;
    writing_ = true;
    endpoint = endpoint_;
  }
  endpoint->WritesDoneAsync([self = shared_from_this()](absl::Status s) {
    self->OnWrite(true, std::move(s));
  });
}

void ReactorCore::OnWrite(bool writes_done, absl::Status status) {
  bool issue_writes_done = false;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    issue_writes_done =
        !writes_done && writes_done_wanted_ && !writes_done_issued_;
  }
  if (writes_done) {
    if (hooks_.writes_done_done) hooks_.writes_done_done(status.ok());
  } else if (hooks_.write_done) {
    hooks_.write_done(status.ok());
  }
  if (issue_writes_done) IssueWritesDone();
  MaybeDone();
}

void ReactorCore::Cancel() {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    if (endpoint_ == nullptr) {
      cancel_queued_ = true;
      return;
    }
    endpoint = endpoint_;
  }
  endpoint->Cancel(absl::CancelledError("cancelled by the caller"));
}

Metadata ReactorCore::initial_metadata() {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    endpoint = endpoint_;
  }
  return endpoint == nullptr ? Metadata() : endpoint->initial_metadata();
}

Metadata ReactorCore::trailing_metadata() {
  std::shared_ptr<StreamEndpoint> endpoint;
  {
    absl::MutexLock lock(&mu_);
    endpoint = endpoint_;
  }
  return endpoint == nullptr ? Metadata() : endpoint->trailing_metadata();
}

void ReactorCore::MaybeDone() {
  absl::Status final;
  {
    absl::MutexLock lock(&mu_);
    if (done_ || !final_known_ || reading_ || writing_) return;
    done_ = true;
    final = final_;
  }
  // The user may delete the reactor in OnDone: nothing touches it after.
  hooks_.done(std::move(final));
}

}  // namespace natsrpc::internal
