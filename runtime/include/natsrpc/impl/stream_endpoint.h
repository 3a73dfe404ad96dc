// Copyright 2026 The natsrpc Authors.
//
// For generated code and natsrpc's own headers, not for users (see
// natsrpc/stream.h): the untyped stream operations the typed stream objects
// are built on, the typed plumbing they share, and the state machine behind
// the client reactors. Implemented in runtime/src/stream/stream_api.cc.

#ifndef NATSRPC_IMPL_STREAM_ENDPOINT_H_
#define NATSRPC_IMPL_STREAM_ENDPOINT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/codec.h"
#include "natsrpc/export.h"
#include "natsrpc/metadata.h"
#include "natsrpc/stream_stats.h"
#include "natsrpc/transport.h"

namespace natsrpc {

namespace internal {

class StreamEndpoint;

// The untyped operations the typed objects use (runtime/src/stream_api.cc).
//
// Sends one payload, waiting for credit until `deadline`.
NATSRPC_EXPORT absl::Status StreamWriteBytes(StreamEndpoint& e, absl::string_view bytes,
                              absl::Time deadline);
// Waits until `deadline` for the next message. OK with `out` set: a message.
// OK with `out` null: the stream ended OK. Otherwise the stream's status.
NATSRPC_EXPORT absl::Status StreamReadMessage(StreamEndpoint& e, absl::Time deadline,
                               MessagePtr& out);
// Sends the end message: the client's half close (OK), or the server's final
// status and trailers.
NATSRPC_EXPORT absl::Status StreamSendEnd(StreamEndpoint& e, const absl::Status& status,
                           const Metadata* trailers,
                           absl::Time deadline = absl::InfiniteFuture());
// Ends the stream at once and tells the peer.
NATSRPC_EXPORT void StreamCancel(StreamEndpoint& e, absl::Status why);
// The status the stream failed with; OK if it has not.
NATSRPC_EXPORT absl::Status StreamFailure(const StreamEndpoint& e);
NATSRPC_EXPORT StreamStats GetStreamStats(const StreamEndpoint& e);
// Client side: the server's initial metadata and trailers received so far
// (docs/protocol.md 9.1, revision 4).
NATSRPC_EXPORT Metadata StreamInitialMetadata(const StreamEndpoint& e);
NATSRPC_EXPORT Metadata StreamTrailingMetadata(const StreamEndpoint& e);
// The stream's deadline (infinite if none).
NATSRPC_EXPORT absl::Time StreamDeadline(const StreamEndpoint& e);
// Cancels the stream unless it already ended: what a client object does
// when it is destroyed mid-stream.
NATSRPC_EXPORT void StreamAbandon(StreamEndpoint& e);
// A stream that failed before it started, with `status`.
NATSRPC_EXPORT std::shared_ptr<StreamEndpoint> FailedStream(absl::Status status);

// Shared typed plumbing of the objects below.
template <template <typename> class Codec>
class TypedStream {
 public:
  TypedStream(std::shared_ptr<StreamEndpoint> endpoint, absl::Time deadline,
              absl::StatusCode decode_error, bool abandon_on_destruction)
      : endpoint_(std::move(endpoint)),
        deadline_(deadline),
        decode_error_(decode_error),
        abandon_on_destruction_(abandon_on_destruction) {}
  ~TypedStream() {
    if (abandon_on_destruction_) StreamAbandon(*endpoint_);
  }
  TypedStream(const TypedStream&) = delete;
  TypedStream& operator=(const TypedStream&) = delete;

  template <typename T>
  bool WriteTyped(const T& message) {
    Payload payload;
    absl::Status s = Codec<T>::Encode(message, payload);
    if (!s.ok()) {
      StreamCancel(*endpoint_, absl::InternalError(s.message()));
      return false;
    }
    return Check(StreamWriteBytes(*endpoint_, payload.view(), deadline_));
  }

  // False at the end of the stream or on failure; end_status() tells which.
  template <typename T>
  bool ReadTyped(T* out) {
    if (ended_) return false;
    MessagePtr m;
    absl::Status s = StreamReadMessage(*endpoint_, deadline_, m);
    if (!Check(s)) {
      ended_ = true;
      end_status_ = s;
      return false;
    }
    if (m == nullptr) {
      ended_ = true;
      end_status_ = absl::OkStatus();
      return false;
    }
    absl::Status d = Codec<T>::Decode(m, *out);
    if (!d.ok()) {
      absl::Status why(decode_error_, d.message());
      StreamCancel(*endpoint_, why);
      ended_ = true;
      end_status_ = why;
      return false;
    }
    return true;
  }

  // Reads and drops messages up to the end; returns the final status.
  absl::Status Drain() {
    while (!ended_) {
      MessagePtr m;
      absl::Status s = StreamReadMessage(*endpoint_, deadline_, m);
      Check(s);
      if (!s.ok() || m == nullptr) {
        ended_ = true;
        end_status_ = s;
      }
    }
    return end_status_;
  }

  bool ended() const { return ended_; }
  StreamStats stats() const { return GetStreamStats(*endpoint_); }
  StreamEndpoint& endpoint() { return *endpoint_; }
  const StreamEndpoint& endpoint() const { return *endpoint_; }
  absl::Time deadline() const { return deadline_; }

 private:
  // A deadline passing ends the stream (the core itself only gives up the
  // one wait).
  bool Check(const absl::Status& s) {
    if (s.code() == absl::StatusCode::kDeadlineExceeded &&
        StreamFailure(*endpoint_).ok()) {
      StreamCancel(*endpoint_, s);
    }
    return s.ok();
  }

  std::shared_ptr<StreamEndpoint> endpoint_;
  const absl::Time deadline_;
  const absl::StatusCode decode_error_;
  const bool abandon_on_destruction_;
  bool ended_ = false;
  absl::Status end_status_;
};


// The untyped state machine behind the reactors below: at most one read,
// one write (or writes-done) outstanding; OnDone once the final status is
// known and nothing is outstanding. Runs the hooks without locks held.
class NATSRPC_EXPORT ReactorCore : public std::enable_shared_from_this<ReactorCore> {
 public:
  struct Hooks {
    // Decodes a received message into the pending read's target.
    absl::AnyInvocable<absl::Status(const MessagePtr&)> decode;
    absl::AnyInvocable<void(bool)> read_done;
    absl::AnyInvocable<void(bool)> write_done;
    absl::AnyInvocable<void(bool)> writes_done_done;
    absl::AnyInvocable<void(absl::Status)> done;
  };

  // Attaches the opened stream; operations started before run now.
  void Bind(std::shared_ptr<StreamEndpoint> endpoint, Hooks hooks);
  void StartRead();
  void StartWrite(absl::StatusOr<std::string> payload);
  void StartWritesDone();
  void Cancel();
  // The server's metadata received so far; empty before the stream opened.
  Metadata initial_metadata();
  Metadata trailing_metadata();

 private:
  void OnRead(MessagePtr message, absl::Status status);
  void OnWrite(bool writes_done, absl::Status status);
  void IssueWritesDone();
  void MaybeDone();

  absl::Mutex mu_;
  std::shared_ptr<StreamEndpoint> endpoint_ ABSL_GUARDED_BY(mu_);
  Hooks hooks_;  // set once by Bind, before any operation runs
  bool read_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_issued_ ABSL_GUARDED_BY(mu_) = false;
  bool final_known_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_ ABSL_GUARDED_BY(mu_);
};

struct ReactorBinder;

}  // namespace internal
}  // namespace natsrpc

#endif  // NATSRPC_IMPL_STREAM_ENDPOINT_H_
