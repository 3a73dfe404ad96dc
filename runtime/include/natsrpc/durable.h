// Copyright 2026 The natsrpc Authors.
//
// Durable requests (docs/protocol.md section 14): a unary request stored in
// a JetStream stream, so that a responder that is offline processes it when
// it comes back, at most once per request id, with its result kept in a
// key-value bucket for the requester to fetch by id.
//
//   // Requester: the typed calls generated for a method the IDL marks
//   // durable (`option (natsrpc.method) = { durable: true }`, or
//   // `natsrpc_durable` in .fbs), or this class for any unary method.
//   Calculator::DurableClient calc(connection, {.requester = "alice",
//                                               .responder = "bob"});
//   absl::StatusOr<natsrpc::DurableTicket> t = calc.SubmitAdd(req);
//   ... later, from any process ...
//   auto r = calc.FetchAdd(t->request_id);   // r->ready, r->result
//
//   // Responder: serves the durable requests of every unary method of a
//   // service (the same Service object a natsrpc::Server may also serve).
//   natsrpc::DurableServer durable(connection, "bob");
//   absl::Status s = durable.AddService(impl);
//
// Exactly once per request id, honestly: the responder stores the handler's
// result under the request id and acknowledges the request only after that;
// a redelivered request whose result exists is acknowledged without running
// the handler again. A crash after the handler's side effect but before the
// result is stored runs the handler again on redelivery: a handler with side
// effects makes them idempotent with DurableRequestId(context) (for
// example, a database row keyed by it).

#ifndef NATSRPC_DURABLE_H_
#define NATSRPC_DURABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/export.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/jetstream.h"
#include "natsrpc/metadata.h"
#include "natsrpc/server.h"

namespace natsrpc {

namespace internal {
class PermissionErrors;
}  // namespace internal

// Names, limits and retries of durable requests (docs/protocol.md 14.2).
// Streams, consumers and the bucket are created with these on first use;
// existing ones are used as they are.
struct DurableOptions {
  JetStreamOptions jetstream{};
  // Limits of the responder's request stream (NATSRPC_DURABLE_<responder>)
  // and dead-letter stream (NATSRPC_DEAD_<responder>); the oldest go first.
  int64_t max_msgs = 1000000;
  int64_t max_bytes = int64_t{1} << 30;
  absl::Duration max_age = absl::Hours(7 * 24);
  // A second request with the same id within this window is not stored
  // again (`Nats-Msg-Id`).
  absl::Duration duplicate_window = absl::Minutes(2);
  // How long results stay in natsrpc_results_<responder>; later than that a
  // redelivered or re-sent request runs again.
  absl::Duration result_ttl = absl::Hours(24);
  // Responder: a request whose handler neither finished nor failed within
  // this time (the responder died) is delivered again. While a handler
  // runs, the responder tells JetStream every third of this time that it
  // is still in progress.
  absl::Duration ack_wait = absl::Seconds(30);
  // Responder: deliveries of one request at most; then it goes to the
  // dead-letter subject with its last error.
  int max_deliver = 5;
  // Responder: delay before a request that failed with a retryable code
  // (UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL,
  // UNKNOWN) is delivered again.
  absl::Duration retry_delay = absl::Seconds(1);
  // Responder: requests fetched per pull, and delivered but unacknowledged
  // at most (per service).
  int fetch_batch = 16;
  int max_ack_pending = 256;
  // Responder: called on every handler run, in order, after the runtime's
  // own per-method counters (DurableServer::method_stats()), exactly as
  // ServerOptions::interceptors are on a natsrpc::Server
  // (natsrpc/interceptor.h). A run is one delivery that reaches the
  // handler: not a delivery whose result is already stored, nor one
  // dead-lettered for too many deliveries, nor one of a method the service
  // does not have. CallInfo::deadline is InfiniteFuture() (a durable
  // request has no deadline) and CallInfo::trace is a child of the
  // request's `traceparent`; OnStart sees the stored request's headers.
  // A refusal (a non-OK OnStart) is the run's result, as a handler's error
  // would be: the handler does not run, a retryable code (see retry_delay)
  // delivers the request again later (dead-lettered on the max_deliver-th
  // delivery), any other is stored as the request's final result. OnFinish
  // gets the run's status before the result is stored; its
  // response_metadata is not stored (a stored result has no metadata).
  std::vector<std::shared_ptr<ServerInterceptor>> interceptors{};
};

// Options of one durable request.
struct DurableCallOptions {
  // The request's id, [A-Za-z0-9_-]+, at most 64 characters; a request
  // with the id of one stored within the duplicate window is not stored
  // again. Empty: a random id.
  std::string request_id{};
  // How long a call that waits for its result (DurableClient::Call, the
  // generated Method()) waits. Zero: 10 seconds.
  absl::Duration timeout = absl::ZeroDuration();
  // Headers stored with the request (reserved keys dropped). Submitted
  // where CurrentTraceContext() (natsrpc/trace.h) is valid, the request
  // carries a child of that span as `traceparent` / `tracestate` instead of
  // any given here; the handler's ServerContext::trace_context() is a child
  // of the request's.
  Metadata metadata{};
};

// A stored request.
struct DurableTicket {
  std::string request_id;
  uint64_t stream_sequence = 0;
  // A request with this id was already stored (within the duplicate window).
  bool duplicate = false;
};

// A result fetched by request id: `ready` false while the request was not
// processed; else the handler's status, and on OK the encoded reply.
struct DurableRawResult {
  bool ready = false;
  absl::Status status;
  std::string content_type;
  std::string payload;
};

// The same, decoded.
template <typename Resp>
struct DurableResult {
  bool ready = false;
  absl::StatusOr<Resp> result = absl::UnknownError("not ready");
};

// The requester side of one service, untyped: any unary method may be
// called durably. Thread-safe.
class NATSRPC_EXPORT DurableClient {
 public:
  // `options.requester` and `options.responder` are required; `app` empty:
  // `default_app`. Errors (bad names, no JetStream) are reported by
  // status() and by every call.
  DurableClient(const Connection& connection, const ClientOptions& options,
                absl::string_view service, absl::string_view default_app,
                const DurableOptions& durable = {});
  ~DurableClient();
  DurableClient(const DurableClient&) = delete;
  DurableClient& operator=(const DurableClient&) = delete;

  const absl::Status& status() const { return status_; }

  // Stores the request (creating the stream on first use) and returns once
  // JetStream acknowledged it.
  //
  // Errors of Submit, Fetch and Call: a JetStream request nats-server
  // refused for missing permissions (docs/protocol.md 14.4) fails after
  // JetStreamOptions::timeout with PERMISSION_DENIED naming the refused
  // subject; UNAVAILABLE without JetStream.
  absl::StatusOr<DurableTicket> Submit(absl::string_view method,
                                       absl::string_view payload,
                                       absl::string_view content_type,
                                       const DurableCallOptions& options = {});
  // The result of request `request_id`, waiting up to `wait` for it.
  absl::StatusOr<DurableRawResult> Fetch(
      absl::string_view request_id, absl::Duration wait = absl::ZeroDuration());
  // Submit, then Fetch waiting up to options.timeout. A result not ready by
  // then: DEADLINE_EXCEEDED (the request stays stored and is processed
  // later; fetch it by options.request_id).
  absl::StatusOr<DurableRawResult> Call(absl::string_view method,
                                        absl::string_view payload,
                                        absl::string_view content_type,
                                        const DurableCallOptions& options = {});

 private:
  absl::Status Prepare();
  absl::StatusOr<DurableTicket> DoSubmit(absl::string_view method,
                                         absl::string_view payload,
                                         absl::string_view content_type,
                                         const DurableCallOptions& options);
  absl::StatusOr<DurableRawResult> DoFetch(absl::string_view request_id,
                                           absl::Duration wait);

  Connection connection_;
  DurableOptions durable_;
  std::string requester_, responder_, app_, service_;
  absl::Status status_;
  std::shared_ptr<JetStream> js_;
  std::atomic<bool> stream_ready_{false};
  // A JetStream timeout caused by missing grants: PERMISSION_DENIED.
  std::unique_ptr<internal::PermissionErrors> denied_;
};

// Counters of a DurableServer (all its services).
struct DurableStats {
  uint64_t delivered = 0;    // deliveries received
  uint64_t redelivered = 0;  // of those, not the first delivery
  uint64_t handled = 0;      // the handler ran (not refused by interceptors)
  uint64_t completed = 0;    // result stored and request acknowledged
  // Redelivered with a stored result: acknowledged, handler not run.
  uint64_t already_done = 0;
  uint64_t retried = 0;        // retryable error: delivered again later
  uint64_t dead_lettered = 0;  // sent to the dead-letter subject
  uint64_t errors = 0;         // JetStream calls that failed
};

// The responder side: serves the durable requests of services, one thread
// per service, one request at a time per service.
class NATSRPC_EXPORT DurableServer {
 public:
  DurableServer(const Connection& connection, absl::string_view responder,
                const DurableOptions& options = {});
  // Stop().
  ~DurableServer();
  DurableServer(const DurableServer&) = delete;
  DurableServer& operator=(const DurableServer&) = delete;

  // Creates what is missing (request and dead-letter streams, result
  // bucket, the service's consumer) and starts serving the durable
  // requests of `service`'s unary methods under `app` (empty: the
  // service's default app). `service` must outlive Stop(). A JetStream
  // request nats-server refused for missing permissions (docs/protocol.md
  // 14.4) fails after JetStreamOptions::timeout with PERMISSION_DENIED
  // naming the refused subject.
  absl::Status AddService(Service& service, absl::string_view app = "");
  // Stops fetching and waits for the running handlers. Requests fetched but
  // not finished are delivered again later.
  void Stop();

  DurableStats stats() const;

  // Per-method counters of the handler runs (every run that reached the
  // interceptor chain, DurableOptions::interceptors: refusals and
  // retryable errors included, each delivery once), ordered by app,
  // service and method; natsrpc/server.h's MethodStats, with `queued` and
  // `resource_exhausted` always 0. PrometheusText(method_stats(),
  // responder) of natsrpc/durable_metrics.h exports them.
  std::vector<MethodStats> method_stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The id of the durable request a handler runs for; empty for a request
// that is not durable. Use it to make side effects idempotent.
NATSRPC_EXPORT absl::string_view DurableRequestId(const ServerContext& context);

namespace internal {

NATSRPC_EXPORT absl::Status DurableDecodeError(const absl::Status& status);
// A stored reply as a message a codec decodes.
NATSRPC_EXPORT MessagePtr DurableReplyMessage(std::string payload);

// For generated code.
template <template <class> class Codec, typename Resp>
absl::StatusOr<DurableResult<Resp>> DecodeDurable(
    absl::StatusOr<DurableRawResult> raw) {
  if (!raw.ok()) return raw.status();
  DurableResult<Resp> out;
  out.ready = raw->ready;
  if (!raw->ready) return out;
  if (!raw->status.ok()) {
    out.result = raw->status;
    return out;
  }
  MessagePtr message = DurableReplyMessage(std::move(raw->payload));
  Resp resp;
  if (absl::Status s = Codec<Resp>::Decode(message, resp); !s.ok()) {
    out.result = DurableDecodeError(s);
  } else {
    out.result = std::move(resp);
  }
  return out;
}

template <template <class> class Codec, typename Req>
absl::StatusOr<DurableTicket> SubmitDurable(DurableClient& client,
                                            absl::string_view method,
                                            const Req& request,
                                            const DurableCallOptions& options) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    return s;
  }
  return client.Submit(method, payload.view(), Codec<Req>::kContentType,
                       options);
}

template <template <class> class Codec, typename Resp, typename Req>
absl::StatusOr<Resp> CallDurable(DurableClient& client,
                                 absl::string_view method, const Req& request,
                                 const DurableCallOptions& options) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    return s;
  }
  absl::StatusOr<DurableResult<Resp>> r = DecodeDurable<Codec, Resp>(
      client.Call(method, payload.view(), Codec<Req>::kContentType, options));
  if (!r.ok()) return r.status();
  return std::move(r->result);
}

}  // namespace internal
}  // namespace natsrpc

#endif  // NATSRPC_DURABLE_H_
