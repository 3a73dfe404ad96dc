// Copyright 2026 The natsrpc Authors.
//
// Interceptors: the extension point of clients and servers, as in gRPC.
// Metrics, tracing, authorization and logging hook into every call here; the
// runtime's own per-method counters (Server::method_stats()) are an
// interceptor too.
//
// An interceptor is a factory that the runtime asks once per call (unary
// call or stream) for an object that follows that one call:
//
//   class Timing final : public natsrpc::ServerInterceptor {
//     std::unique_ptr<natsrpc::ServerCallInterceptor> Intercept(
//         const natsrpc::CallInfo& call) override {
//       return std::make_unique<Call>(call);  // or nullptr: not this call
//     }
//     struct Call final : natsrpc::ServerCallInterceptor {
//       explicit Call(const natsrpc::CallInfo& c) : method(c.method) {}
//       void OnFinish(const absl::Status& status, natsrpc::Metadata&) override
//       {
//         LOG(INFO) << method << " " << status << " in "
//                   << absl::Now() - start;
//       }
//       std::string method;
//       absl::Time start = absl::Now();
//     };
//   };
//   natsrpc::Server server(conn, {.responder = "bob",
//                                 .interceptors =
//                                 {std::make_shared<Timing>()}});
//
// Order: interceptors run in the order of the options' vector for OnStart and
// in reverse order for OnFinish (the first one registered is the outermost).
// A non-OK status from OnStart rejects the call with that status: the
// interceptors after it are not asked, the call goes no further (nothing is
// sent by a client; the handler does not run on a server), and every
// interceptor whose OnStart ran gets OnFinish with that status.
//
// Interceptors are shared by all calls of a client or server and are called
// from runtime threads, concurrently for different calls: the factory must
// be thread-safe. One call's object is called by one thread at a time.
// Callbacks must not block; they run on the call's path.

#ifndef NATSRPC_INTERCEPTOR_H_
#define NATSRPC_INTERCEPTOR_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/export.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"

namespace natsrpc {

// What flows each way in a call.
enum class CallKind {
  kUnary,
  kClientStreaming,  // many requests, one response
  kServerStreaming,  // one request, many responses
  kBidiStreaming,    // many each way
};

// How a unary method is called (docs/protocol.md section 13): one request
// and its reply, an event (no reply), or a scatter-gather call (one request
// to every instance, a reply from each). Streams are always kCall.
enum class CallPattern {
  kCall,
  kEvent,
  kGather,
};

// The call an interceptor sees. The views are valid during Intercept() only;
// copy what the per-call object keeps.
struct CallInfo {
  absl::string_view requester;
  absl::string_view responder;
  absl::string_view app;
  absl::string_view service;
  absl::string_view method;
  CallKind kind = CallKind::kUnary;
  // When the caller stops waiting; InfiniteFuture() if never (a stream
  // without a deadline).
  absl::Time deadline = absl::InfiniteFuture();
  // The call's span (natsrpc/trace.h), never null when the runtime asks;
  // the span hook of tracing. On a client: the span of this outgoing call,
  // a child of the caller's current span (empty, valid() false, when the
  // caller has none); what it holds after the last OnStart is sent as
  // `traceparent` / `tracestate` (nothing if not valid()). On a server: the
  // span of the call served, a child of the caller's span (empty when the
  // request carried no valid `traceparent`); what it holds after the last
  // OnStart is the handler's ServerContext::trace_context() and the parent
  // of the calls the handler makes. An interceptor may read and change it
  // from Intercept() until its OnFinish returns (the object outlives that),
  // e.g. to start a root span (TraceContext::NewRoot()) or use an
  // OpenTelemetry SDK's ids; ids it sets must be valid() or the call is sent
  // without trace headers.
  TraceContext* trace = nullptr;
  // An event or a scatter-gather call of a unary method, or neither. On a
  // client, OnFinish of an event has the publish's status (OK once handed
  // to NATS, or confirmed by it for the Confirmed form) and of a
  // scatter-gather call the status of the whole call (OK with replies that
  // may each have failed); both with empty response metadata. On a server,
  // an event's OnFinish has the handler's status, which is not sent, and
  // metadata added there goes nowhere.
  CallPattern pattern = CallPattern::kCall;
};

// Follows one call on the client.
class NATSRPC_EXPORT ClientCallInterceptor {
 public:
  virtual ~ClientCallInterceptor() = default;

  // Before the request (or the stream's open message) is sent. May add to
  // `request_metadata`, the headers the call sends; reserved keys
  // (natsrpc/metadata.h) make the call fail with INVALID_ARGUMENT. A non-OK
  // status ends the call with that status.
  virtual absl::Status OnStart(Metadata& /*request_metadata*/) {
    return absl::OkStatus();
  }

  // Once, when the call ends: the status of the call, and the metadata the
  // server sent back: its initial metadata followed by its trailers
  // (ClientContext, natsrpc/client.h; for a stream, what arrived before it
  // ended). Runs before the caller's callback or blocking call returns
  // (streams: before the Read that sees the end returns, or when the stream
  // fails). A unary reply that then fails to decode reaches the caller as
  // INTERNAL although OnFinish saw OK.
  virtual void OnFinish(const absl::Status& /*status*/,
                        const Metadata& /*response_metadata*/) {}
};

// Creates the per-call object of each client call, or null to leave a call
// alone. Registered through ClientOptions::interceptors.
class NATSRPC_EXPORT ClientInterceptor {
 public:
  virtual ~ClientInterceptor() = default;
  virtual std::unique_ptr<ClientCallInterceptor> Intercept(
      const CallInfo& call) = 0;
};

// Follows one call on the server.
class NATSRPC_EXPORT ServerCallInterceptor {
 public:
  virtual ~ServerCallInterceptor() = default;

  // After the request passed the protocol's checks (docs/protocol.md section
  // 5), before the handler runs. `request_metadata` holds every header of
  // the request, reserved ones included. A non-OK status is answered to the
  // caller and the handler does not run.
  virtual absl::Status OnStart(const Metadata& /*request_metadata*/) {
    return absl::OkStatus();
  }

  // Once, when the call ends: the status sent to the caller (nothing is
  // sent for a call the caller cancelled; the status is then CANCELLED).
  // May add to `response_metadata`, which is sent with the reply (unary) or
  // the stream's end (not with a stream refused at its open: a refusal
  // carries no metadata).
  virtual void OnFinish(const absl::Status& /*status*/,
                        Metadata& /*response_metadata*/) {}
};

// Creates the per-call object of each server call, or null to leave a call
// alone. Registered through ServerOptions::interceptors.
class NATSRPC_EXPORT ServerInterceptor {
 public:
  virtual ~ServerInterceptor() = default;
  virtual std::unique_ptr<ServerCallInterceptor> Intercept(
      const CallInfo& call) = 0;
};

}  // namespace natsrpc

#endif  // NATSRPC_INTERCEPTOR_H_
