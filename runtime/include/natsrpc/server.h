// Copyright 2026 The natsrpc Authors.
//
// The server side. A generated `Svc::Service` is a `natsrpc::Service` whose
// virtual methods the user overrides; a `Server` subscribes each added service
// to `requests.*.<responder>.<app>.<service>.*` in a queue group shared by all
// instances of the responder, checks every request (docs/protocol.md section
// 5) and runs the handler on a bounded worker pool.
//
//   class CalculatorImpl final : public example::v1::Calculator::Service {
//     absl::Status Add(natsrpc::ServerContext& ctx, const AddRequest& req,
//                      AddReply& reply) override;
//   };
//   natsrpc::Server server(conn, natsrpc::ServerOptions{.responder = "bob"});
//   CalculatorImpl impl;
//   absl::Status s = server.AddService(impl);  // once OK, the service answers
//
// A handler returns the call's status; a non-OK status is sent to the caller
// (code and message), a thrown exception becomes UNKNOWN. The service object
// must outlive the server (or its Shutdown()).

#ifndef NATSRPC_SERVER_H_
#define NATSRPC_SERVER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/connection.h"
#include "natsrpc/export.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"
#include "natsrpc/metrics.h"
#include "natsrpc/transport.h"

namespace natsrpc {

// Options of a server instance. Member order is part of the API.
struct ServerOptions {
  // Whom this server answers for (a subject token).
  std::string responder{};
  // Overrides the app of every added service. Empty: each service's IDL app.
  std::string app{};
  // Queue group shared by all instances of this responder. Empty:
  // "natsrpc.<responder>.<app>".
  std::string queue_group{};
  // True: no queue group; every instance receives every request.
  bool broadcast = false;
  // Threads running handlers. 0: max(4, hardware threads). At most this many
  // handlers run at once; a handler that has proved fast may run in a free
  // worker's place on the thread that received the request, saving a
  // thread hand-off (docs/benchmarks.md, "Runtime changes and their effect").
  int num_workers = 0;
  // Requests waiting for a worker beyond which new requests are answered
  // RESOURCE_EXHAUSTED. An event (natsrpc/fanout.h) that finds the queue
  // full is not dropped: it runs on the thread that received it, which
  // reads no further messages of the service meanwhile (NATS holds them, up
  // to the subscription's pending limits).
  int max_queued_requests = 4096;
  // Streams open at once beyond which new ones are refused with
  // RESOURCE_EXHAUSTED. Each open stream's handler runs on its own thread,
  // not on a worker.
  int max_open_streams = 1024;
  // Streams: received but unread messages held per stream at most (the
  // receive window, docs/protocol.md 9.5). 0: 1024 with a client that
  // honours byte credit (revision 5, 9.5.1), 16 with an older one.
  uint32_t stream_window = 0;
  // Streams: payload bytes of received but unread messages held per stream,
  // plus one message, with a client that honours byte credit (revision 5,
  // 9.5.1). 0: 1 MiB.
  uint64_t stream_window_bytes = 0;
  // Streams: the shortest heartbeat interval this server accepts (9.6); a
  // client proposing less gets this one. Zero: 1 second.
  absl::Duration min_stream_heartbeat = absl::ZeroDuration();
  // Called on every call (unary call or stream) this server serves, in
  // order, after the runtime's own per-method counters (the interceptor
  // behind Server::method_stats(), always installed first, so it sees every
  // call a user interceptor sees, rejections included). See
  // natsrpc/interceptor.h. Not asked about requests that fail the protocol's
  // checks, nor about requests never run (overload, shutdown, a deadline or
  // cancel that came while queued).
  std::vector<std::shared_ptr<ServerInterceptor>> interceptors{};
  // A/B switch for measurements (docs/benchmarks.md): true lets a handler
  // that has proved fast run on the subscription's delivery thread in a free
  // worker's place (see num_workers); false hands every request to a worker.
  bool run_fast_handlers_inline = true;
  // Answer NATS's service discovery (ADR-32: `$SRV.PING|INFO|STATS`, so
  // `nats micro ls|info|stats` and the service clients of nats.go, nats.js
  // and nats.c list this server's services) and natsrpc's health check
  // (`natsrpc.health.<responder>[.<app>.<service>]`); docs/protocol.md
  // section 11. It needs grants beyond the four of section 2; without them
  // the services still serve calls and discovery_status() says why
  // discovery is unavailable.
  bool discovery = true;
  // The SemVer version every added service announces in discovery. Empty:
  // "0.0.0". AddService() fails with INVALID_ARGUMENT on a version that is
  // not SemVer 2.0.0.
  std::string version{};
};

namespace internal {
class MethodHandler;
class ServerCore;
class ServerContextAccess;
class ServiceRegistry;
class DurableAccess;
}  // namespace internal

// What a handler knows about its call. Valid while the handler runs; for an
// asynchronous handler (natsrpc/async.h) while its responder lives.
class NATSRPC_EXPORT ServerContext {
 public:
  ServerContext(MessagePtr request, absl::string_view requester,
                absl::string_view responder, absl::string_view app,
                absl::string_view service, absl::string_view method,
                absl::Time deadline)
      : request_(std::move(request)),
        requester_(requester),
        responder_(responder),
        app_(app),
        service_(service),
        method_(method),
        deadline_(deadline) {}

  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // The caller, as its request subject names it (NATS permissions make this
  // trustworthy: a requester may only publish on requests.<itself>.>).
  absl::string_view requester() const { return requester_; }
  absl::string_view responder() const { return responder_; }
  absl::string_view app() const { return app_; }
  absl::string_view service() const { return service_; }
  absl::string_view method() const { return method_; }

  // When the caller stops waiting. Pass it on as CallOptions::deadline.
  absl::Time deadline() const { return deadline_; }

  // The first value of request header `key`, if present.
  std::optional<absl::string_view> metadata(absl::string_view key) const {
    return request_->header(key);
  }
  // All request headers, reserved ones included.
  Metadata all_metadata() const { return request_->headers(); }

  // Metadata back to the caller (docs/protocol.md 3 and 9.1, revision 4),
  // sent with OK and error replies alike and read by the caller through
  // ClientContext (unary) or the stream object (natsrpc/client.h,
  // natsrpc/stream.h). Reserved keys (natsrpc/metadata.h) and `traceparent`
  // / `tracestate` are dropped when sent; a value may be empty.
  //
  // Initial metadata: with a unary reply; on a stream, with the first
  // message the handler writes (or, if it writes none, with the end). Add it
  // before the first Write: what is added later is not sent.
  void AddInitialMetadata(std::string key, std::string value) {
    initial_metadata_.emplace_back(std::move(key), std::move(value));
  }
  // Trailers: with the unary reply or the stream's end.
  void AddTrailingMetadata(std::string key, std::string value) {
    trailing_metadata_.emplace_back(std::move(key), std::move(value));
  }
  const Metadata& initial_metadata() const { return initial_metadata_; }
  const Metadata& trailing_metadata() const { return trailing_metadata_; }

  // Before revision 4's AddInitialMetadata / AddTrailingMetadata: initial
  // metadata of a unary call (sent after those of AddInitialMetadata),
  // trailers of a stream (sent before those of AddTrailingMetadata).
  void AddResponseMetadata(std::string key, std::string value) {
    response_metadata_.emplace_back(std::move(key), std::move(value));
  }
  const Metadata& response_metadata() const { return response_metadata_; }

  // The span of this call (natsrpc/trace.h): a child of the caller's span,
  // with the caller's trace id; empty (valid() false) if the request carried
  // no valid `traceparent`. While the handler runs it is its thread's
  // CurrentTraceContext(), so the calls it makes there are its children.
  const TraceContext& trace_context() const { return trace_; }

  // Scatter-gather (natsrpc/fanout.h, docs/protocol.md 13): marks this
  // reply as the sentinel, so the caller stops collecting replies after it.
  // Only a request sent to every instance (a `MethodAll` call) carries it
  // back; elsewhere it has no effect.
  void EndGather() { end_gather_ = true; }

  // The received NATS message (a stream's open message).
  const IncomingMessage& request_message() const { return *request_; }

  // True once the caller cancelled the call (docs/protocol.md 9.8), the
  // deadline passed, or (streams) the stream ended early: the client went
  // silent or away, or the server is shutting down. Nobody waits for the
  // result any more; a handler should stop, and its reply is not sent.
  bool IsCancelled() const {
    return (cancelled_ != nullptr &&
            cancelled_->load(std::memory_order_acquire)) ||
           absl::Now() >= deadline_;
  }

 private:
  friend class internal::ServerContextAccess;

  MessagePtr request_;
  bool end_gather_ = false;  // EndGather()
  absl::string_view requester_;
  absl::string_view responder_;
  absl::string_view app_;
  absl::string_view service_;
  absl::string_view method_;
  absl::Time deadline_;
  Metadata response_metadata_;
  Metadata initial_metadata_;
  Metadata trailing_metadata_;
  TraceContext trace_;
  const std::atomic<bool>* cancelled_ = nullptr;
};

// The format of a service's schema (docs/protocol.md section 12).
enum class SchemaEncoding {
  kNone,
  // A serialized google.protobuf.FileDescriptorSet: the service's .proto
  // file and everything it imports, each file after its imports.
  kProtobufFileDescriptorSet,
  // A FlatBuffers binary schema (`.bfbs`, reflection.fbs's Schema): the
  // service's .fbs file and its includes.
  kFlatBuffersBinarySchema,
};

// The schema generated code embeds for each service, which the server sends
// to whoever asks (docs/protocol.md section 12), so that a generic client
// can call methods it was not compiled with. The views point into static
// data of the generated code.
struct ServiceSchema {
  SchemaEncoding encoding = SchemaEncoding::kNone;
  // The IDL's fully qualified service name in the schema,
  // e.g. "example.v1.Calculator".
  absl::string_view full_name{};
  absl::string_view bytes{};
};

// Base of generated service skeletons.
class NATSRPC_EXPORT Service {
 public:
  virtual ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The IDL service name, e.g. "Calculator".
  absl::string_view service_name() const { return name_; }
  // The app the IDL gives this service, e.g. "example_v1".
  absl::string_view default_app() const { return default_app_; }
  // The IDL's fully qualified name, e.g. "example.v1.Calculator"; empty if
  // the generated code did not say.
  absl::string_view full_name() const { return full_name_; }
  // The IDL's doc comment of the service, for discovery (docs/protocol.md
  // section 11); may be empty.
  absl::string_view description() const { return description_; }

 protected:
  Service(absl::string_view name, absl::string_view default_app);
  // With the schema a schema request is answered with (section 12).
  Service(absl::string_view name, absl::string_view default_app,
          const ServiceSchema& schema);

  // Generated constructors register each method; registering a method
  // again replaces its handler (Svc::AsyncService does, natsrpc/async.h).
  void RegisterMethod(absl::string_view method,
                      std::unique_ptr<internal::MethodHandler> handler);
  // Generated constructors describe the service and the IDL types of each
  // method, for discovery (docs/protocol.md section 11).
  void Describe(absl::string_view full_name, absl::string_view description);
  void DescribeMethod(absl::string_view method, absl::string_view request_type,
                      absl::string_view response_type);

 private:
  friend class internal::ServerCore;
  friend class internal::ServiceRegistry;
  // Runs the unary handlers for durable requests (natsrpc/durable.h).
  friend class internal::DurableAccess;

  std::string name_;
  std::string default_app_;
  ServiceSchema schema_;
  std::vector<std::pair<std::string, std::unique_ptr<internal::MethodHandler>>>
      methods_;
  std::string full_name_;
  std::string description_;
  // Method -> {request type, response type}, as the IDL names them.
  std::map<std::string, std::pair<std::string, std::string>, std::less<>>
      method_types_;
};

// Counters of one server instance.
struct ServerStats {
  uint64_t requests_received = 0;
  uint64_t requests_handled = 0;      // a handler ran
  uint64_t rejected_overloaded = 0;   // answered RESOURCE_EXHAUSTED
  uint64_t rejected_expired = 0;      // answered DEADLINE_EXCEEDED
  uint64_t rejected_invalid = 0;      // bad timeout header or payload
  uint64_t unknown_method = 0;        // answered UNIMPLEMENTED
  uint64_t dropped_bad_reply_to = 0;  // section 5 check failed; not answered
  uint64_t reply_publish_errors = 0;
  uint64_t cancelled = 0;  // calls and streams cancelled by callers
  uint64_t streams_accepted = 0;
  uint64_t streams_refused = 0;  // refused at open (any reason)
  uint64_t streams_open = 0;     // open now
  // NATS refused a subscription of this server after it was made (a
  // permission change on a running server); see Server::health().
  uint64_t permission_errors = 0;
  // Schema requests answered (docs/protocol.md section 12); they do not
  // reach interceptors nor method_stats().
  uint64_t schema_requests = 0;
  // Events (natsrpc/fanout.h) whose handler ran, and those of them that
  // returned an error (never replied; also in method_stats() by code).
  uint64_t events_handled = 0;
  uint64_t events_failed = 0;
};

// The calls of one method that reached the interceptor chain
// (ServerOptions::interceptors): those that passed the protocol's checks and
// were not dropped while queued; and, besides, the requests of the method
// queued now or refused for overload. PrometheusText() (natsrpc/metrics.h)
// formats them.
struct MethodStats {
  std::string app;
  std::string service;
  std::string method;
  uint64_t calls = 0;     // started
  uint64_t finished = 0;  // ended (ok + errors); calls - finished run now
  uint64_t ok = 0;
  // Ended with a non-OK status, by code; CANCELLED counts calls the caller
  // cancelled, and rejections by an interceptor count under their code.
  std::map<absl::StatusCode, uint64_t> errors;
  // Time from the call's start on this server (just before the handler, or
  // at a stream's accept) to its end, summed over the finished calls.
  absl::Duration total_latency = absl::ZeroDuration();
  // The status of the latest call that ended with an error ("CODE: message");
  // empty if none did.
  std::string last_error;

  // Added in 0.3:
  // The latencies above, per bucket of kLatencyBucketBounds
  // (natsrpc/metrics.h).
  LatencyHistogram latency_histogram{};
  // Started and not ended: running handlers (and, for a streaming method,
  // open streams).
  uint64_t in_flight = 0;
  // Unary requests of this method waiting for a worker now (the worker
  // pool's queue, ServerOptions::max_queued_requests).
  uint64_t queued = 0;
  // Refused with RESOURCE_EXHAUSTED before reaching the interceptors: the
  // queue was full, or (streams) ServerOptions::max_open_streams were open.
  // Not in `calls` nor `errors`.
  uint64_t resource_exhausted = 0;
  // A streaming method (client, server or bidi).
  bool streaming = false;
  // Streaming methods: open streams (= in_flight); 0 for unary ones.
  uint64_t streams_open = 0;
  // Streaming methods: writes of the server's handlers that had to wait
  // for the client's credit (docs/protocol.md 9.5): slow readers.
  uint64_t credit_stalls = 0;

  absl::Duration average_latency() const {
    return finished == 0 ? absl::ZeroDuration()
                         : total_latency / static_cast<int64_t>(finished);
  }
};

// A server instance: serves added services until Shutdown() or destruction.
class NATSRPC_EXPORT Server {
 public:
  // Never fails; bad options are reported by AddService().
  Server(const Connection& connection, ServerOptions options);
  // Shutdown().
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts serving `service`. Errors: INVALID_ARGUMENT naming a bad
  // responder, app or queue group; ALREADY_EXISTS for a service added twice;
  // FAILED_PRECONDITION after Drain() or Shutdown(); the subscribe error
  // otherwise.
  absl::Status AddService(Service& service);

  // Starts draining: every service's health turns NOT_SERVING
  // (docs/protocol.md section 11) and the server stops taking new calls
  // (it unsubscribes its request subjects, so other instances of the
  // responder get them); calls and streams already running go on, and
  // discovery and the health check keep answering until Shutdown().
  // Idempotent; Shutdown() drains first.
  void Drain();

  // Stops taking requests, lets running handlers finish and answers queued
  // requests UNAVAILABLE. Idempotent; after it returns no handler runs.
  void Shutdown();

  // This server instance's id: 22 random base62 characters, the `id` of its
  // services in ADR-32 discovery (`$SRV.INFO.<name>.<id>`).
  const std::string& instance_id() const;

  ServerStats stats() const;

  // Per-method counters, ordered by app, service and method. Kept by an
  // interceptor the server installs ahead of ServerOptions::interceptors.
  std::vector<MethodStats> method_stats() const;

  // OK, or the last problem that stops a running server from getting
  // requests: PERMISSION_DENIED naming the subject and service when NATS
  // refused one of its subscriptions after AddService() returned (also
  // logged on stderr, counted in ServerStats::permission_errors);
  // UNAVAILABLE once Drain() or Shutdown() was called. Its health check
  // answers SERVING while this is OK (docs/protocol.md section 11).
  absl::Status health() const;

  // OK while discovery and the health check are answered (or
  // ServerOptions::discovery is false); else why not, for example
  // PERMISSION_DENIED when the server's NATS user may not subscribe to
  // `$SRV.>` (logged on stderr once). Never affects calls.
  absl::Status discovery_status() const;

 private:
  std::shared_ptr<internal::ServerCore> core_;
};

}  // namespace natsrpc

#endif  // NATSRPC_SERVER_H_
