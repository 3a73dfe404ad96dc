// Copyright 2026 The natsrpc Authors.
//
// For generated code, not for users: opening the streams of generated client
// methods, in blocking form (the ClientReader, ClientWriter and
// ClientReaderWriter of natsrpc/stream.h) and reactor form.

#ifndef NATSRPC_IMPL_STREAM_CALLS_H_
#define NATSRPC_IMPL_STREAM_CALLS_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/stream.h"

namespace natsrpc::internal {

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


// What generated client methods call. Blocking forms return an object that
// is never null: a stream that could not be opened fails its first Read or
// Write, and Finish() returns why.

template <template <class> class Codec, typename Resp, typename Req>
std::unique_ptr<ClientReader<Resp, Codec>> OpenServerStream(
    ClientChannel& channel, int method, const Req& request,
    const CallOptions& options) {
  std::shared_ptr<StreamEndpoint> e =
      OpenWithRequest<Codec>(channel, method, request, options);
  const absl::Time deadline = StreamDeadline(*e);
  return std::make_unique<ClientReader<Resp, Codec>>(std::move(e), deadline);
}

template <template <class> class Codec, typename Req, typename Resp>
std::unique_ptr<ClientWriter<Req, Resp, Codec>> OpenClientStream(
    ClientChannel& channel, int method, const CallOptions& options) {
  std::shared_ptr<StreamEndpoint> e =
      OpenSending<Codec, Req>(channel, method, options);
  const absl::Time deadline = StreamDeadline(*e);
  return std::make_unique<ClientWriter<Req, Resp, Codec>>(std::move(e),
                                                          deadline);
}

template <template <class> class Codec, typename Req, typename Resp>
std::unique_ptr<ClientReaderWriter<Req, Resp, Codec>> OpenBidiStream(
    ClientChannel& channel, int method, const CallOptions& options) {
  std::shared_ptr<StreamEndpoint> e =
      OpenSending<Codec, Req>(channel, method, options);
  const absl::Time deadline = StreamDeadline(*e);
  return std::make_unique<ClientReaderWriter<Req, Resp, Codec>>(std::move(e),
                                                                deadline);
}

template <template <class> class Codec, typename Resp, typename Req>
void StartServerStream(ClientChannel& channel, int method, const Req& request,
                       ClientReadReactor<Resp>* reactor,
                       const CallOptions& options) {
  ReactorBinder::Bind<Codec>(
      reactor,
      OpenWithRequest<Codec>(channel, method, request, options));
}

template <template <class> class Codec, typename Req, typename Resp>
void StartClientStream(ClientChannel& channel, int method,
                       ClientWriteReactor<Req, Resp>* reactor,
                       const CallOptions& options) {
  ReactorBinder::Bind<Codec>(
      reactor, OpenSending<Codec, Req>(channel, method, options));
}

template <template <class> class Codec, typename Req, typename Resp>
void StartBidiStream(ClientChannel& channel, int method,
                     ClientBidiReactor<Req, Resp>* reactor,
                     const CallOptions& options) {
  ReactorBinder::Bind<Codec>(
      reactor, OpenSending<Codec, Req>(channel, method, options));
}

}  // namespace natsrpc::internal

#endif  // NATSRPC_IMPL_STREAM_CALLS_H_
