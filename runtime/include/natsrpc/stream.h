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

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/stream_stats.h"

namespace natsrpc {

// The client stream objects as interfaces, as gRPC's ClientReaderInterface
// and friends: what a generated `Svc::ClientInterface` (emitted with the
// plugin option `generate_mock_code=true`) returns for streaming methods,
// so that a test can hand code under test a mock stream
// (natsrpc/testing/mock_stream.h). ClientReader, ClientWriter and
// ClientReaderWriter below implement them.

// See ClientReader.
template <typename Resp>
class ClientReaderInterface {
 public:
  virtual ~ClientReaderInterface() = default;
  virtual bool Read(Resp* reply) = 0;
  virtual absl::Status Finish() = 0;
  virtual void Cancel() = 0;
  virtual StreamStats stats() const = 0;
};

// See ClientWriter.
template <typename Req, typename Resp>
class ClientWriterInterface {
 public:
  virtual ~ClientWriterInterface() = default;
  virtual bool Write(const Req& request) = 0;
  virtual bool WritesDone() = 0;
  virtual absl::StatusOr<Resp> Finish() = 0;
  virtual void Cancel() = 0;
  virtual StreamStats stats() const = 0;
};

// See ClientReaderWriter.
template <typename Req, typename Resp>
class ClientReaderWriterInterface {
 public:
  virtual ~ClientReaderWriterInterface() = default;
  virtual bool Write(const Req& request) = 0;
  virtual bool WritesDone() = 0;
  virtual bool Read(Resp* reply) = 0;
  virtual absl::Status Finish() = 0;
  virtual void Cancel() = 0;
  virtual StreamStats stats() const = 0;
};

// Client of a server stream: reads the replies, then Finish() gives the
// status.
template <typename Resp, template <typename> class Codec>
class ClientReader final : public ClientReaderInterface<Resp> {
 public:
  ClientReader(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

  // The next reply; false at the end (or on error: see Finish()).
  bool Read(Resp* reply) override { return s_.template ReadTyped<Resp>(reply); }
  // Drops unread replies, waits for the end, returns the final status.
  absl::Status Finish() override { return s_.Drain(); }
  // Ends the call with CANCELLED; the server's handler is cancelled.
  void Cancel() override {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }
  // The server's initial metadata (ServerContext::AddInitialMetadata):
  // complete once the first reply was read, or the stream ended.
  Metadata GetServerInitialMetadata() const {
    return internal::StreamInitialMetadata(s_.endpoint());
  }
  // The server's trailers (ServerContext::AddTrailingMetadata): complete
  // once Finish() returned (or a Read returned false).
  Metadata GetServerTrailingMetadata() const {
    return internal::StreamTrailingMetadata(s_.endpoint());
  }
  // This side's counters.
  StreamStats stats() const override { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
};

// Client of a client stream: writes requests, then Finish() gives the one
// reply or the status.
template <typename Req, typename Resp, template <typename> class Codec>
class ClientWriter final : public ClientWriterInterface<Req, Resp> {
 public:
  ClientWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
               absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

  // Waits for credit; false if the stream is over (see Finish()).
  bool Write(const Req& request) override {
    return s_.template WriteTyped<Req>(request);
  }
  // Half close: no more requests.
  bool WritesDone() override {
    if (writes_done_) return true;
    writes_done_ = true;
    return internal::StreamSendEnd(s_.endpoint(), absl::OkStatus(), nullptr,
                                   s_.deadline())
        .ok();
  }
  absl::StatusOr<Resp> Finish() override {
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
  void Cancel() override {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }
  // The server's initial metadata (ServerContext::AddInitialMetadata):
  // complete once the first reply was read, or the stream ended.
  Metadata GetServerInitialMetadata() const {
    return internal::StreamInitialMetadata(s_.endpoint());
  }
  // The server's trailers (ServerContext::AddTrailingMetadata): complete
  // once Finish() returned (or a Read returned false).
  Metadata GetServerTrailingMetadata() const {
    return internal::StreamTrailingMetadata(s_.endpoint());
  }
  // This side's counters.
  StreamStats stats() const override { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
  bool writes_done_ = false;
};

// Client of a bidi stream.
template <typename Req, typename Resp, template <typename> class Codec>
class ClientReaderWriter final : public ClientReaderWriterInterface<Req, Resp> {
 public:
  ClientReaderWriter(std::shared_ptr<internal::StreamEndpoint> endpoint,
                     absl::Time deadline)
      : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
           /*abandon_on_destruction=*/true) {}

  bool Write(const Req& request) override {
    return s_.template WriteTyped<Req>(request);
  }
  bool WritesDone() override {
    return internal::StreamSendEnd(s_.endpoint(), absl::OkStatus(), nullptr,
                                   s_.deadline())
        .ok();
  }
  bool Read(Resp* reply) override { return s_.template ReadTyped<Resp>(reply); }
  // Drops unread replies, waits for the end, returns the final status.
  absl::Status Finish() override { return s_.Drain(); }
  void Cancel() override {
    internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
  }
  // The server's initial metadata (ServerContext::AddInitialMetadata):
  // complete once the first reply was read, or the stream ended.
  Metadata GetServerInitialMetadata() const {
    return internal::StreamInitialMetadata(s_.endpoint());
  }
  // The server's trailers (ServerContext::AddTrailingMetadata): complete
  // once Finish() returned (or a Read returned false).
  Metadata GetServerTrailingMetadata() const {
    return internal::StreamTrailingMetadata(s_.endpoint());
  }
  // This side's counters.
  StreamStats stats() const override { return s_.stats(); }

 private:
  internal::TypedStream<Codec> s_;
};

// Server side of a client stream: the handler reads the requests and returns
// the reply, which the runtime sends before the stream's end.
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

  // The server's metadata (see ClientReader): initial metadata once the
  // first reply arrived; trailers by OnDone.
  Metadata GetServerInitialMetadata() { return core_->initial_metadata(); }
  Metadata GetServerTrailingMetadata() { return core_->trailing_metadata(); }

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

  // The server's metadata (see ClientReader): initial metadata once the
  // first reply arrived; trailers by OnDone.
  Metadata GetServerInitialMetadata() { return core_->initial_metadata(); }
  Metadata GetServerTrailingMetadata() { return core_->trailing_metadata(); }

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

  // The server's metadata (see ClientReader): initial metadata once the
  // first reply arrived; trailers by OnDone.
  Metadata GetServerInitialMetadata() { return core_->initial_metadata(); }
  Metadata GetServerTrailingMetadata() { return core_->trailing_metadata(); }

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

}  // namespace natsrpc

#endif  // NATSRPC_STREAM_H_
