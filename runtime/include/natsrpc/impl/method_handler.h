// Copyright 2026 The natsrpc Authors.
//
// For generated code, not for users: how a generated Service registers its
// methods. A MethodHandler decodes a request, calls the user's virtual
// method and encodes the reply; the runtime's server dispatches to it.

#ifndef NATSRPC_IMPL_METHOD_HANDLER_H_
#define NATSRPC_IMPL_METHOD_HANDLER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "natsrpc/async.h"
#include "natsrpc/codec.h"
#include "natsrpc/export.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/server.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

class StreamEndpoint;

// What flows each way (docs/protocol.md section 9).
using MethodKind = ::natsrpc::CallKind;

// Runs one method: decodes the request, calls the handler, encodes the reply.
class NATSRPC_EXPORT MethodHandler {
 public:
  virtual ~MethodHandler() = default;
  virtual MethodKind kind() const { return MethodKind::kUnary; }
  // An event method (natsrpc/fanout.h): Run() is called without a reply to
  // send; its status is counted, never sent.
  virtual bool is_event() const { return false; }
  // Unary: returns the status to send; on OK, `reply` and `content_type`
  // are set.
  virtual absl::Status Run(Service& service, ServerContext& context,
                           const MessagePtr& request, Payload& reply,
                           absl::string_view& content_type) = 0;
  // Streams: runs the handler over the accepted stream `endpoint` (`open` is
  // the open message: a server stream's request) and returns its status.
  // A client stream's handler also sets `reply` and `content_type` on OK.
  // The runtime then sends the end (after the reply).
  virtual absl::Status RunStream(
      Service& /*service*/, ServerContext& /*context*/,
      const MessagePtr& /*open*/,
      const std::shared_ptr<StreamEndpoint>& /*endpoint*/, Payload& /*reply*/,
      absl::string_view& /*content_type*/) {
    return absl::InternalError("not a streaming method");
  }

  // Asynchronous unary handlers (natsrpc/async.h). True: the server calls
  // RunAsync instead of Run, with a completion the handler finishes now or
  // later, from any thread.
  virtual bool async() const { return false; }
  // Decodes `request` and calls the user's asynchronous method with a typed
  // responder made from `completion`; a decode error finishes it.
  virtual void RunAsync(Service& /*service*/, const MessagePtr& /*request*/,
                        UnaryCompletion completion) {
    completion.Finish(absl::InternalError("not an asynchronous method"));
  }
};

NATSRPC_EXPORT absl::Status RequestDecodeError(const absl::Status& status);

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
class UnaryHandler final : public MethodHandler {
 public:
  using Fn = absl::Status (Svc::*)(ServerContext&, const Req&, Resp&);
  explicit UnaryHandler(Fn fn) : fn_(fn) {}

  absl::Status Run(Service& service, ServerContext& context,
                   const MessagePtr& request, Payload& reply,
                   absl::string_view& content_type) override {
    Req req;
    if (absl::Status s = Codec<Req>::Decode(request, req); !s.ok()) {
      return RequestDecodeError(s);
    }
    Resp resp;
    absl::Status s = (static_cast<Svc&>(service).*fn_)(context, req, resp);
    if (!s.ok()) return s;
    content_type = Codec<Resp>::kContentType;
    return Codec<Resp>::Encode(resp, reply);
  }

 private:
  Fn fn_;
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
std::unique_ptr<MethodHandler> MakeUnaryHandler(
    absl::Status (Svc::*fn)(ServerContext&, const Req&, Resp&)) {
  return std::make_unique<UnaryHandler<Codec, Svc, Req, Resp>>(fn);
}

// An asynchronous unary method (natsrpc/async.h): `Svc::AsyncService::MAsync`.
template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
class AsyncUnaryHandler final : public MethodHandler {
 public:
  using Fn = void (Svc::*)(ServerContext&, const Req&, UnaryResponder<Resp>);
  explicit AsyncUnaryHandler(Fn fn) : fn_(fn) {}

  bool async() const override { return true; }
  absl::Status Run(Service&, ServerContext&, const MessagePtr&, Payload&,
                   absl::string_view&) override {
    return absl::InternalError("an asynchronous method runs with RunAsync");
  }
  void RunAsync(Service& service, const MessagePtr& request,
                UnaryCompletion completion) override {
    auto req = std::make_shared<Req>();
    if (absl::Status s = Codec<Req>::Decode(request, *req); !s.ok()) {
      completion.Finish(RequestDecodeError(s));
      return;
    }
    completion.KeepAlive(req);
    ServerContext& context = completion.context();
    (static_cast<Svc&>(service).*fn_)(
        context, *req,
        UnaryResponder<Resp>(std::move(completion), &Codec<Resp>::Encode,
                             Codec<Resp>::kContentType));
  }

 private:
  Fn fn_;
};

// An event method's handler (natsrpc/fanout.h, docs/protocol.md 13):
// decodes the event and calls the user's virtual method; nothing is replied.
template <template <class> class Codec, typename Svc, typename Req>
class EventHandler final : public MethodHandler {
 public:
  using Fn = absl::Status (Svc::*)(ServerContext&, const Req&);
  explicit EventHandler(Fn fn) : fn_(fn) {}

  bool is_event() const override { return true; }

  absl::Status Run(Service& service, ServerContext& context,
                   const MessagePtr& request, Payload& /*reply*/,
                   absl::string_view& /*content_type*/) override {
    Req req;
    if (absl::Status s = Codec<Req>::Decode(request, req); !s.ok()) {
      return RequestDecodeError(s);
    }
    return (static_cast<Svc&>(service).*fn_)(context, req);
  }

 private:
  Fn fn_;
};

template <template <class> class Codec, typename Svc, typename Req,
          typename Resp>
std::unique_ptr<MethodHandler> MakeAsyncUnaryHandler(
    void (Svc::*fn)(ServerContext&, const Req&, UnaryResponder<Resp>)) {
  return std::make_unique<AsyncUnaryHandler<Codec, Svc, Req, Resp>>(fn);
}

template <template <class> class Codec, typename Svc, typename Req>
std::unique_ptr<MethodHandler> MakeEventHandler(
    absl::Status (Svc::*fn)(ServerContext&, const Req&)) {
  return std::make_unique<EventHandler<Codec, Svc, Req>>(fn);
}

// The answer of a method a service does not override.
NATSRPC_EXPORT absl::Status Unimplemented(absl::string_view service,
                                          absl::string_view method);

}  // namespace natsrpc::internal

#endif  // NATSRPC_IMPL_METHOD_HANDLER_H_
