// Copyright 2026 The natsrpc Authors.
//
// Typed, blocking stream objects in the style of gRPC C++ (ClientReader,
// ClientWriter, ClientReaderWriter, ServerReader, ServerWriter,
// ServerReaderWriter), for any codec (natsrpc/codec.h). They wrap the
// runtime's transport-level stream core (docs/protocol.md section 9) and are
// what generated code will hand out for streaming methods.
//
// STATUS: draft. The objects work over a stream core endpoint (unit-tested in
// tests/runtime/stream_api_test.cc), but Client and Server do not open or
// accept streams yet, and the generator does not emit streaming methods.
//
// One thread may read while another writes; two threads must not both read
// or both write.

#ifndef NATSRPC_STREAM_H_
#define NATSRPC_STREAM_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/codec.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"

namespace natsrpc {
namespace internal {

class StreamEndpoint;

// The untyped operations the typed objects use (runtime/src/stream_api.cc).
//
// Sends one payload, waiting for credit until `deadline`.
absl::Status StreamWriteBytes(StreamEndpoint& e, absl::string_view bytes,
                              absl::Time deadline);
// Waits until `deadline` for the next message. OK with `out` set: a message.
// OK with `out` null: the stream ended OK. Otherwise the stream's status.
absl::Status StreamReadMessage(StreamEndpoint& e, absl::Time deadline,
                               MessagePtr& out);
// Sends the end message: the client's half close (OK), or the server's final
// status and trailers.
absl::Status StreamSendEnd(StreamEndpoint& e, const absl::Status& status,
                           const Metadata* trailers,
                           absl::Time deadline = absl::InfiniteFuture());
// Ends the stream at once and tells the peer.
void StreamCancel(StreamEndpoint& e, absl::Status why);
// The status the stream failed with; OK if it has not.
absl::Status StreamFailure(const StreamEndpoint& e);

// Shared typed plumbing of the objects below.
template <template <typename> class Codec>
class TypedStream {
 public:
  TypedStream(std::shared_ptr<StreamEndpoint> endpoint, absl::Time deadline,
              absl::StatusCode decode_error)
      : endpoint_(std::move(endpoint)),
        deadline_(deadline),
        decode_error_(decode_error) {}

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
  StreamEndpoint& endpoint() { return *endpoint_; }
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
  bool ended_ = false;
  absl::Status end_status_;
};

}  // namespace internal

// Client of a server stream: reads the replies, then Finish() gives the
// status.
template <typename Resp, template <typename> class Codec>
class ClientReader {
 public:
  ClientReader(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal) {}

  // The next reply; false at the end (or on error: see Finish()).
  bool Read(Resp* reply) { return s_.template ReadTyped<Resp>(reply); }
  // Drops unread replies, waits for the end, returns the final status.
  absl::Status Finish() { return s_.Drain(); }
  // Ends the call with CANCELLED; the server's handler is cancelled.
  void Cancel() {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }

 private:
  internal::TypedStream<Codec> s_;
};

// Client of a client stream: writes requests, then Finish() gives the one
// reply or the status.
template <typename Req, typename Resp, template <typename> class Codec>
class ClientWriter {
 public:
  ClientWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal) {}

  // Waits for credit; false if the stream is over (see Finish()).
  bool Write(const Req& request) {
    return s_.template WriteTyped<Req>(request);
  }
  // Half close: no more requests.
  bool WritesDone() {
    if (writes_done_) return true;
    writes_done_ = true;
    return internal::StreamSendEnd(s_.endpoint(), absl::OkStatus(), nullptr,
                                   s_.deadline())
        .ok();
  }
  absl::StatusOr<Resp> Finish() {
    WritesDone();
    Resp reply;
    if (!s_.template ReadTyped<Resp>(&reply)) {
      absl::Status s = s_.Drain();
      if (s.ok()) {
        return absl::InternalError("client stream ended OK without a reply");
      }
      return s;
    }
    Resp extra;
    if (s_.template ReadTyped<Resp>(&extra)) {
      internal::StreamCancel(s_.endpoint(),
                             absl::InternalError("more than one reply"));
      return absl::InternalError(
          "client stream answered with more than one reply");
    }
    absl::Status s = s_.Drain();
    if (!s.ok()) return s;
    return reply;
  }
  void Cancel() {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }

 private:
  internal::TypedStream<Codec> s_;
  bool writes_done_ = false;
};

// Client of a bidi stream.
template <typename Req, typename Resp, template <typename> class Codec>
class ClientReaderWriter {
 public:
  ClientReaderWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
                     absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal) {}

  bool Write(const Req& request) {
    return s_.template WriteTyped<Req>(request);
  }
  bool WritesDone() {
    return internal::StreamSendEnd(s_.endpoint(), absl::OkStatus(), nullptr,
                                   s_.deadline())
        .ok();
  }
  bool Read(Resp* reply) { return s_.template ReadTyped<Resp>(reply); }
  // Drops unread replies, waits for the end, returns the final status.
  absl::Status Finish() { return s_.Drain(); }
  void Cancel() {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a client stream: the handler reads the requests and returns
// the reply (sent by the generated adapter with FinishClientStream).
template <typename Req, template <typename> class Codec>
class ServerReader {
 public:
  ServerReader(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline,
           absl::StatusCode::kInvalidArgument) {}
  // False after the client's last request, or if the call is over.
  bool Read(Req* request) { return s_.template ReadTyped<Req>(request); }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a server stream.
template <typename Resp, template <typename> class Codec>
class ServerWriter {
 public:
  ServerWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal) {}
  // Waits for credit; false if the call is over (cancelled, client gone).
  bool Write(const Resp& reply) { return s_.template WriteTyped<Resp>(reply); }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a bidi stream.
template <typename Req, typename Resp, template <typename> class Codec>
class ServerReaderWriter {
 public:
  ServerReaderWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
                     absl::Time deadline)
      : s_(std::move(endpoint), deadline,
           absl::StatusCode::kInvalidArgument) {}
  bool Read(Req* request) { return s_.template ReadTyped<Req>(request); }
  bool Write(const Resp& reply) { return s_.template WriteTyped<Resp>(reply); }

 private:
  internal::TypedStream<Codec> s_;
};

namespace internal {

// What the generated adapter does when a server or bidi stream handler
// returns: sends the end with its status (unless the stream already failed).
inline absl::Status FinishServerStream(StreamEndpoint& e,
                                       const absl::Status& status,
                                       const Metadata* trailers = nullptr) {
  return StreamSendEnd(e, status, trailers);
}

// The same for a client stream handler: the reply (if OK), then the end.
template <typename Resp, template <typename> class Codec>
absl::Status FinishClientStream(StreamEndpoint& e, const absl::Status& status,
                                const Resp& reply,
                                const Metadata* trailers = nullptr,
                                absl::Time deadline = absl::InfiniteFuture()) {
  if (!status.ok()) return StreamSendEnd(e, status, trailers);
  Payload payload;
  if (absl::Status s = Codec<Resp>::Encode(reply, payload); !s.ok()) {
    return StreamSendEnd(e, absl::InternalError(s.message()), trailers);
  }
  if (absl::Status s = StreamWriteBytes(e, payload.view(), deadline);
      !s.ok()) {
    return s;
  }
  return StreamSendEnd(e, absl::OkStatus(), trailers);
}

}  // namespace internal
}  // namespace natsrpc

#endif  // NATSRPC_STREAM_H_
