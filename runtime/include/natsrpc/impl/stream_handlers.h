// Copyright 2026 The natsrpc Authors.
//
// For generated code, not for users: the server-side handlers of the three
// stream kinds that generated Service constructors register.

#ifndef NATSRPC_IMPL_STREAM_HANDLERS_H_
#define NATSRPC_IMPL_STREAM_HANDLERS_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "natsrpc/codec.h"
#include "natsrpc/impl/method_handler.h"
#include "natsrpc/server.h"
#include "natsrpc/stream.h"

namespace natsrpc::internal {

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

}  // namespace natsrpc::internal

#endif  // NATSRPC_IMPL_STREAM_HANDLERS_H_
