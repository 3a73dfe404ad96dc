// Copyright 2026 The natsrpc Authors.
//
// Streaming calls (docs/protocol.md section 9), typed for any codec
// (natsrpc/codec.h), in the two forms gRPC C++ users know:
//
// - blocking objects: ClientReader, ClientWriter, ClientReaderWriter on the
//   client; ServerReader, ServerWriter, ServerReaderWriter handed to server
//   handlers;
// - callback reactors: ClientReadReactor, ClientWriteReactor,
//   ClientBidiReactor, whose On* methods the runtime calls.
//
// Generated code hands them out for streaming methods:
//
//   // rpc Download(DownloadRequest) returns (stream Chunk);
//   std::unique_ptr<natsrpc::ClientReader<Chunk, natsrpc::ProtobufCodec>> r =
//       client.Download(request);
//   Chunk chunk;
//   while (r->Read(&chunk)) { ... }
//   absl::Status status = r->Finish();
//
// Nothing throws. Flow control is per stream: a reader holds at most its
// window of unread messages and a writer waits for credit, so a slow reader
// slows the writer instead of growing memory. A deadline (CallOptions) bounds
// the whole stream.
//
// One thread may read while another writes; two threads must not both read
// or both write on one object.

#ifndef NATSRPC_STREAM_H_
#define NATSRPC_STREAM_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/metadata.h"
#include "natsrpc/server.h"
#include "natsrpc/status_macros.h"
#include "natsrpc/transport.h"

namespace natsrpc {

// Counters of one side of one stream.
struct StreamStats {
  uint64_t sent = 0;          // messages this side wrote
  uint64_t received = 0;      // messages from the peer, read or not
  uint64_t consumed = 0;      // messages returned by Read
  uint64_t max_buffered = 0;  // most received but unread messages held
  uint64_t window = 0;        // this side's receive window
};

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
StreamStats GetStreamStats(const StreamEndpoint& e);
// The stream's deadline (infinite if none).
absl::Time StreamDeadline(const StreamEndpoint& e);
// Cancels the stream unless it already ended: what a client object does
// when it is destroyed mid-stream.
void StreamAbandon(StreamEndpoint& e);
// A stream that failed before it started, with `status`.
std::shared_ptr<StreamEndpoint> FailedStream(absl::Status status);

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

}  // namespace internal

// Client of a server stream: reads the replies, then Finish() gives the
// status.
template <typename Resp, template <typename> class Codec>
class ClientReader {
 public:
  ClientReader(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

  // The next reply; false at the end (or on error: see Finish()).
  bool Read(Resp* reply) { return s_.template ReadTyped<Resp>(reply); }
  // Drops unread replies, waits for the end, returns the final status.
  absl::Status Finish() { return s_.Drain(); }
  // Ends the call with CANCELLED; the server's handler is cancelled.
  void Cancel() {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

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
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

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
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

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
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

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
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

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
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInvalidArgument,
           /*abandon_on_destruction=*/false) {}
  // False after the client's last request, or if the call is over.
  bool Read(Req* request) { return s_.template ReadTyped<Req>(request); }
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a server stream.
template <typename Resp, template <typename> class Codec>
class ServerWriter {
 public:
  ServerWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/false) {}
  // Waits for credit; false if the call is over (cancelled, client gone).
  bool Write(const Resp& reply) { return s_.template WriteTyped<Resp>(reply); }
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a bidi stream.
template <typename Req, typename Resp, template <typename> class Codec>
class ServerReaderWriter {
 public:
  ServerReaderWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
                     absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInvalidArgument,
           /*abandon_on_destruction=*/false) {}
  bool Read(Req* request) { return s_.template ReadTyped<Req>(request); }
  bool Write(const Resp& reply) { return s_.template WriteTyped<Resp>(reply); }
  // This side's counters.
  StreamStats stats() const { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
};

namespace internal {

// Server handlers of the three kinds; generated Service constructors make
// them with MakeServerStreamHandler and friends. The runtime runs each
// stream's handler on its own thread and, when it returns, sends the end
// with its status (after the one reply of a client stream).

// What the three stream handlers share: their kind, and no unary form.
template <MethodKind kKind>
class StreamHandlerBase : public MethodHandler {
 public:
  MethodKind kind() const final { return kKind; }
  absl::Status Run(Service&, ServerContext&, const MessagePtr&, Payload&,
                   absl::string_view&) final {
    return absl::InternalError("a streaming method was called as unary");
  }
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
class ServerStreamHandler final
    : public StreamHandlerBase<MethodKind::kServerStreaming> {
 public:
  using Fn = absl::Status (Svc::*)(ServerContext&, const Req&,
                                   ServerWriter<Resp, Codec>&);
  explicit ServerStreamHandler(Fn fn) : fn_(fn) {}
  absl::Status RunStream(Service& service, ServerContext& context,
                         const MessagePtr& open,
                         const std::shared_ptr<StreamEndpoint>& endpoint,
                         Payload&, absl::string_view&) override {
    Req request;
    if (absl::Status s = Codec<Req>::Decode(open, request); !s.ok()) {
      return RequestDecodeError(s);
    }
    ServerWriter<Resp, Codec> writer(endpoint, context.deadline());
    return (static_cast<Svc&>(service).*fn_)(context, request, writer);
  }

 private:
  Fn fn_;
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
class ClientStreamHandler final
    : public StreamHandlerBase<MethodKind::kClientStreaming> {
 public:
  using Fn = absl::Status (Svc::*)(ServerContext&, ServerReader<Req, Codec>&,
                                   Resp&);
  explicit ClientStreamHandler(Fn fn) : fn_(fn) {}
  absl::Status RunStream(Service& service, ServerContext& context,
                         const MessagePtr&,
                         const std::shared_ptr<StreamEndpoint>& endpoint,
                         Payload& reply,
                         absl::string_view& content_type) override {
    ServerReader<Req, Codec> reader(endpoint, context.deadline());
    Resp response;
    absl::Status s =
        (static_cast<Svc&>(service).*fn_)(context, reader, response);
    if (!s.ok()) return s;
    content_type = Codec<Resp>::kContentType;
    return Codec<Resp>::Encode(response, reply);
  }

 private:
  Fn fn_;
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
class BidiStreamHandler final
    : public StreamHandlerBase<MethodKind::kBidiStreaming> {
 public:
  using Fn = absl::Status (Svc::*)(ServerContext&,
                                   ServerReaderWriter<Req, Resp, Codec>&);
  explicit BidiStreamHandler(Fn fn) : fn_(fn) {}
  absl::Status RunStream(Service& service, ServerContext& context,
                         const MessagePtr&,
                         const std::shared_ptr<StreamEndpoint>& endpoint,
                         Payload&, absl::string_view&) override {
    ServerReaderWriter<Req, Resp, Codec> stream(endpoint, context.deadline());
    return (static_cast<Svc&>(service).*fn_)(context, stream);
  }

 private:
  Fn fn_;
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
std::unique_ptr<MethodHandler> MakeServerStreamHandler(absl::Status (Svc::*fn)(
    ServerContext&, const Req&, ServerWriter<Resp, Codec>&)) {
  return std::make_unique<ServerStreamHandler<Codec, Svc, Req, Resp>>(fn);
}

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
std::unique_ptr<MethodHandler> MakeClientStreamHandler(
    absl::Status (Svc::*fn)(ServerContext&, ServerReader<Req, Codec>&, Resp&)) {
  return std::make_unique<ClientStreamHandler<Codec, Svc, Req, Resp>>(fn);
}

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
std::unique_ptr<MethodHandler> MakeBidiStreamHandler(absl::Status (Svc::*fn)(
    ServerContext&, ServerReaderWriter<Req, Resp, Codec>&)) {
  return std::make_unique<BidiStreamHandler<Codec, Svc, Req, Resp>>(fn);
}

// The end of a server side, as the runtime sends it when a handler returns
// (used where typed objects run without a Server, e.g. in tests): the end
// with `status`, or for a client stream the one reply and then the end.
inline absl::Status FinishServerStream(StreamEndpoint& e,
                                       const absl::Status& status,
                                       const Metadata* trailers = nullptr) {
  return StreamSendEnd(e, status, trailers);
}

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
  NATSRPC_RETURN_IF_ERROR(StreamWriteBytes(e, payload.view(), deadline));
  return StreamSendEnd(e, absl::OkStatus(), trailers);
}

// Opens the stream of a server-streaming method with its one request.
template <template <class> class Codec, typename Req>
std::shared_ptr<StreamEndpoint> OpenWithRequest(ClientChannel& channel,
                                                int method, const Req& request,
                                                const CallOptions& options) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    return FailedStream(absl::InvalidArgumentError(
        absl::StrCat("cannot encode the request: ", s.message())));
  }
  return channel.OpenStream(method, /*client_sends=*/false, &payload,
                            Codec<Req>::kContentType, options);
}

template <template <class> class Codec, typename Req>
std::shared_ptr<StreamEndpoint> OpenSending(ClientChannel& channel, int method,
                                            const CallOptions& options) {
  return channel.OpenStream(method, /*client_sends=*/true, nullptr,
                            Codec<Req>::kContentType, options);
}

// The untyped state machine behind the reactors below: at most one read,
// one write (or writes-done) outstanding; OnDone once the final status is
// known and nothing is outstanding. Runs the hooks without locks held.
class ReactorCore : public std::enable_shared_from_this<ReactorCore> {
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

// Callback form of a server-streaming call, like gRPC's ClientReadReactor.
// Derive, override OnDone (and OnReadDone), pass it to the generated
// `MethodAsync(request, reactor)`, then call StartRead. Callbacks run on a
// runtime thread (or inside StartRead when a message is already there) and
// must not block. OnDone runs once, last; the reactor must live until then.
// Read until OnReadDone(false) to learn the final status, or Cancel().
template <typename Resp>
class ClientReadReactor {
 public:
  virtual ~ClientReadReactor() = default;

  // Reads the next reply into `*response` (which must live until
  // OnReadDone). One read at a time.
  void StartRead(Resp* response) {
    response_ = response;
    core_->StartRead();
  }
  // Ends the call with CANCELLED; the server's handler is cancelled.
  void Cancel() { core_->Cancel(); }

  // `ok`: a reply is in the StartRead target; false: the stream is over.
  virtual void OnReadDone(bool /*ok*/) {}
  // The final status: OK when the server ended the stream with OK.
  virtual void OnDone(const absl::Status& status) = 0;

 private:
  friend struct internal::ReactorBinder;
  std::shared_ptr<internal::ReactorCore> core_ =
      std::make_shared<internal::ReactorCore>();
  Resp* response_ = nullptr;
};

// Callback form of a client-streaming call, like gRPC's ClientWriteReactor:
// StartWrite each request, StartWritesDone, then OnDone gets the one reply
// or the status. Start* calls must follow the generated
// `MethodAsync(reactor)`.
template <typename Req, typename Resp>
class ClientWriteReactor {
 public:
  virtual ~ClientWriteReactor() = default;

  // Encodes and sends `request` once the server grants credit. One write
  // (or writes-done) at a time: start the next from OnWriteDone.
  void StartWrite(const Req& request) { core_->StartWrite(encode_(request)); }
  // No more requests.
  void StartWritesDone() { core_->StartWritesDone(); }
  void Cancel() { core_->Cancel(); }

  virtual void OnWriteDone(bool /*ok*/) {}
  virtual void OnWritesDoneDone(bool /*ok*/) {}
  // The reply, or the call's status.
  virtual void OnDone(absl::StatusOr<Resp> result) = 0;

 private:
  friend struct internal::ReactorBinder;
  std::shared_ptr<internal::ReactorCore> core_ =
      std::make_shared<internal::ReactorCore>();
  absl::AnyInvocable<absl::StatusOr<std::string>(const Req&)> encode_ =
      [](const Req&) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError(
        "StartWrite before the call was started");
  };
  Resp reply_{};
  int replies_ = 0;
};

// Callback form of a bidi call, like gRPC's ClientBidiReactor. Start* calls
// must follow the generated `MethodAsync(reactor)`.
template <typename Req, typename Resp>
class ClientBidiReactor {
 public:
  virtual ~ClientBidiReactor() = default;

  void StartRead(Resp* response) {
    response_ = response;
    core_->StartRead();
  }
  void StartWrite(const Req& request) { core_->StartWrite(encode_(request)); }
  void StartWritesDone() { core_->StartWritesDone(); }
  void Cancel() { core_->Cancel(); }

  virtual void OnReadDone(bool /*ok*/) {}
  virtual void OnWriteDone(bool /*ok*/) {}
  virtual void OnWritesDoneDone(bool /*ok*/) {}
  virtual void OnDone(const absl::Status& status) = 0;

 private:
  friend struct internal::ReactorBinder;
  std::shared_ptr<internal::ReactorCore> core_ =
      std::make_shared<internal::ReactorCore>();
  absl::AnyInvocable<absl::StatusOr<std::string>(const Req&)> encode_ =
      [](const Req&) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError(
        "StartWrite before the call was started");
  };
  Resp* response_ = nullptr;
};

namespace internal {

template <template <class> class Codec, typename Req>
absl::StatusOr<std::string> EncodeToString(const Req& request) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode the request: ", s.message()));
  }
  return std::string(payload.view());
}

template <template <class> class Codec, typename Resp>
absl::Status DecodeInto(const MessagePtr& message, Resp* out) {
  if (out == nullptr) {
    return absl::FailedPreconditionError("StartRead without a target");
  }
  absl::Status s = Codec<Resp>::Decode(message, *out);
  return s.ok() ? s : ReplyDecodeError(s);
}

struct ReactorBinder {
  template <template <class> class Codec, typename Resp>
  static void Bind(ClientReadReactor<Resp>* r,
                   std::shared_ptr<StreamEndpoint> e) {
    ReactorCore::Hooks h;
    h.decode = [r](const MessagePtr& m) {
      return DecodeInto<Codec, Resp>(m, r->response_);
    };
    h.read_done = [r](bool ok) { r->OnReadDone(ok); };
    h.done = [r](absl::Status s) { r->OnDone(s); };
    r->core_->Bind(std::move(e), std::move(h));
  }

  template <template <class> class Codec, typename Req, typename Resp>
  static void Bind(ClientWriteReactor<Req, Resp>* r,
                   std::shared_ptr<StreamEndpoint> e) {
    r->encode_ = &EncodeToString<Codec, Req>;
    ReactorCore::Hooks h;
    h.decode = [r](const MessagePtr& m) {
      ++r->replies_;
      return DecodeInto<Codec, Resp>(m, &r->reply_);
    };
    // The reply is read by the reactor itself, up to the end.
    h.read_done = [r](bool ok) {
      if (ok) r->core_->StartRead();
    };
    h.write_done = [r](bool ok) { r->OnWriteDone(ok); };
    h.writes_done_done = [r](bool ok) { r->OnWritesDoneDone(ok); };
    h.done = [r](absl::Status s) {
      if (!s.ok()) {
        r->OnDone(std::move(s));
      } else if (r->replies_ != 1) {
        r->OnDone(absl::InternalError(
            absl::StrCat("client stream ended OK with ", r->replies_,
                         " replies instead of one")));
      } else {
        r->OnDone(std::move(r->reply_));
      }
    };
    r->core_->Bind(std::move(e), std::move(h));
    r->core_->StartRead();
  }

  template <template <class> class Codec, typename Req, typename Resp>
  static void Bind(ClientBidiReactor<Req, Resp>* r,
                   std::shared_ptr<StreamEndpoint> e) {
    r->encode_ = &EncodeToString<Codec, Req>;
    ReactorCore::Hooks h;
    h.decode = [r](const MessagePtr& m) {
      return DecodeInto<Codec, Resp>(m, r->response_);
    };
    h.read_done = [r](bool ok) { r->OnReadDone(ok); };
    h.write_done = [r](bool ok) { r->OnWriteDone(ok); };
    h.writes_done_done = [r](bool ok) { r->OnWritesDoneDone(ok); };
    h.done = [r](absl::Status s) { r->OnDone(s); };
    r->core_->Bind(std::move(e), std::move(h));
  }
};

}  // namespace internal

// What generated client methods call. Blocking forms return an object that
// is never null: a stream that could not be opened fails its first Read or
// Write, and Finish() returns why.

template <template <class> class Codec, typename Resp, typename Req>
std::unique_ptr<ClientReader<Resp, Codec>> OpenServerStream(
    ClientChannel& channel, int method, const Req& request,
    const CallOptions& options) {
  std::shared_ptr<internal::StreamEndpoint> e =
      internal::OpenWithRequest<Codec>(channel, method, request, options);
  const absl::Time deadline = internal::StreamDeadline(*e);
  return std::make_unique<ClientReader<Resp, Codec>>(std::move(e), deadline);
}

template <template <class> class Codec, typename Req, typename Resp>
std::unique_ptr<ClientWriter<Req, Resp, Codec>> OpenClientStream(
    ClientChannel& channel, int method, const CallOptions& options) {
  std::shared_ptr<internal::StreamEndpoint> e =
      internal::OpenSending<Codec, Req>(channel, method, options);
  const absl::Time deadline = internal::StreamDeadline(*e);
  return std::make_unique<ClientWriter<Req, Resp, Codec>>(std::move(e),
                                                          deadline);
}

template <template <class> class Codec, typename Req, typename Resp>
std::unique_ptr<ClientReaderWriter<Req, Resp, Codec>> OpenBidiStream(
    ClientChannel& channel, int method, const CallOptions& options) {
  std::shared_ptr<internal::StreamEndpoint> e =
      internal::OpenSending<Codec, Req>(channel, method, options);
  const absl::Time deadline = internal::StreamDeadline(*e);
  return std::make_unique<ClientReaderWriter<Req, Resp, Codec>>(std::move(e),
                                                                deadline);
}

template <template <class> class Codec, typename Resp, typename Req>
void StartServerStream(ClientChannel& channel, int method, const Req& request,
                       ClientReadReactor<Resp>* reactor,
                       const CallOptions& options) {
  internal::ReactorBinder::Bind<Codec>(
      reactor,
      internal::OpenWithRequest<Codec>(channel, method, request, options));
}

template <template <class> class Codec, typename Req, typename Resp>
void StartClientStream(ClientChannel& channel, int method,
                       ClientWriteReactor<Req, Resp>* reactor,
                       const CallOptions& options) {
  internal::ReactorBinder::Bind<Codec>(
      reactor, internal::OpenSending<Codec, Req>(channel, method, options));
}

template <template <class> class Codec, typename Req, typename Resp>
void StartBidiStream(ClientChannel& channel, int method,
                     ClientBidiReactor<Req, Resp>* reactor,
                     const CallOptions& options) {
  internal::ReactorBinder::Bind<Codec>(
      reactor, internal::OpenSending<Codec, Req>(channel, method, options));
}

}  // namespace natsrpc

#endif  // NATSRPC_STREAM_H_
