// Copyright 2026 The natsrpc Authors.
//
// The options and results of client calls. A generated `Svc::Client` holds
// the subjects of one service for one requester and responder:
//
//   pkg::Svc::Client client(conn, natsrpc::ClientOptions{.requester = "alice",
//                                                        .responder = "bob"});
//   absl::StatusOr<pkg::Resp> r = client.Method(req);
//   r = client.Method(req, natsrpc::CallOptions{.timeout =
//   absl::Milliseconds(100)}); client.MethodAsync(req,
//   [](absl::StatusOr<pkg::Resp> r) { ... });
//
// Every call ends exactly once: with the reply, or with a status (see
// docs/protocol.md section 4). Async callbacks run on a runtime thread (the
// connection's reply thread, or its timer thread for deadlines); they must
// not block, and in particular must not make blocking calls.

#ifndef NATSRPC_CLIENT_H_
#define NATSRPC_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "natsrpc/connection.h"
#include "natsrpc/export.h"
#include "natsrpc/interceptor.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"

namespace natsrpc {

namespace internal {
class ClientChannel;
class ReplyMux;
class RetryingCall;
}  // namespace internal

// What a unary call brought back besides its result, like gRPC's
// ClientContext: pass one in CallOptions::context; the runtime fills it
// before the blocking call returns or the async callback runs. Reuse for
// another call clears it. Streams keep theirs on the stream object
// (natsrpc/stream.h: GetServerInitialMetadata()).
//
//   natsrpc::ClientContext ctx;
//   absl::StatusOr<AddReply> r = client.Add(req, {.context = &ctx});
//   for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) ...
class NATSRPC_EXPORT ClientContext {
 public:
  ClientContext() = default;
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // The metadata the handler set with ServerContext::AddInitialMetadata()
  // (and AddResponseMetadata()), in order; also on an error reply. Empty if
  // no reply came (deadline, cancel, no responders).
  const Metadata& GetServerInitialMetadata() const { return initial_; }
  // The trailers the handler set with ServerContext::AddTrailingMetadata().
  const Metadata& GetServerTrailingMetadata() const { return trailing_; }
  // The span of the call (natsrpc/trace.h): what was sent as `traceparent`;
  // empty (valid() false) if the call carried no trace context.
  const TraceContext& trace_context() const { return trace_; }

 private:
  friend class internal::ClientChannel;
  Metadata initial_;
  Metadata trailing_;
  TraceContext trace_;
};

// The timeout used when neither the call, the IDL nor ClientOptions set one.
inline constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(10);

// When and how a unary call is attempted again, like gRPC's retry policy
// (README.md, "Retries and wait-for-ready"). It applies to the methods the
// IDL marks idempotent (`idempotency_level` IDEMPOTENT or NO_SIDE_EFFECTS in
// .proto, the `idempotent` attribute in .fbs), and to any other method only
// for a call that sets CallOptions::retry_non_idempotent. An attempt that
// ends with one of `retryable_codes` (from the server or from the client
// side: no responders, connection lost) is repeated after a backoff; every
// attempt shares the call's one deadline (each is sent with the time that
// remains), and a backoff that would end after the deadline ends the call
// with the last attempt's status. Interceptors see the call once, not each
// attempt. Streams are never retried.
struct RetryPolicy {
  // Attempts in all, the first included; 1 (or less): no retries.
  int max_attempts = 1;
  // The wait before the first retry; each next one is `backoff_multiplier`
  // times the previous, at most `max_backoff`.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  double backoff_multiplier = 2.0;
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter]
  // (clamped to [0, 1]), so that the callers of a restarted responder do
  // not all come back at once.
  double jitter = 0.2;
  // The statuses worth another attempt.
  std::vector<absl::StatusCode> retryable_codes = {
      absl::StatusCode::kUnavailable};
};

// Options of one client stub. Member order is part of the API.
struct ClientOptions {
  // Who calls (a NATS subject token, [A-Za-z0-9_-]+).
  std::string requester{};
  // Who is called; all instances of this responder share the load.
  std::string responder{};
  // Overrides the app the IDL gives the service (its package, or the
  // `natsrpc.app` option). Empty: keep the IDL's.
  std::string app{};
  // Timeout of methods for which the IDL sets none. Zero: 10 seconds.
  absl::Duration default_timeout = absl::ZeroDuration();
  // Headers sent with every call of this client.
  Metadata metadata{};
  // Streams: how many received but unread messages this client holds per
  // stream at most (its receive window, docs/protocol.md 9.5). 0: 1024 with
  // a server that honours byte credit (revision 5, 9.5.1), 16 with an older
  // one.
  uint32_t stream_window = 0;
  // Streams: how many payload bytes of received but unread messages this
  // client holds per stream, plus one message (revision 5, 9.5.1; a server
  // of revision <= 4 is bounded by stream_window only). 0: 1 MiB.
  uint64_t stream_window_bytes = 0;
  // Streams: the heartbeat interval this client proposes (9.6); the server
  // may raise it. A stream fails with UNAVAILABLE after 3 intervals without
  // a message from the server. Zero: 5 seconds.
  absl::Duration stream_heartbeat = absl::ZeroDuration();
  // Called on every call of this client, in order (natsrpc/interceptor.h).
  std::vector<std::shared_ptr<ClientInterceptor>> interceptors{};

  // ---- Instance targeting, retries, wait-for-ready (README.md) ----

  // Address one server instance of the responder, by its id
  // (Server::instance_id(), the `id` of its discovery answers,
  // docs/protocol.md section 11) instead of the queue group: every call
  // and stream of this client goes to that instance only, and fails with
  // UNAVAILABLE at once when it is gone (no responders). Empty: any
  // instance. CallOptions::instance overrides it per call.
  std::string instance{};
  // Retries of this client's unary calls (RetryPolicy); the default makes
  // one attempt. CallOptions::retry overrides it per call.
  RetryPolicy retry{};
  // Unary calls wait for the connection and for a responder instead of
  // failing at once: a call started while the connection is reconnecting
  // is sent once it is back, and a call that finds no responders is sent
  // again (with `retry`'s backoff) until one answers, all within the
  // call's deadline, which then ends it with DEADLINE_EXCEEDED. Safe for
  // every method: neither case delivered the request. A call whose
  // connection is lost after it was sent is not re-sent by this (it may
  // have been served); `retry` decides. CallOptions::wait_for_ready
  // overrides it per call.
  bool wait_for_ready = false;
};

// Options of one call. Member order is part of the API.
struct CallOptions {
  // How long to wait for the reply. Zero: the method's default (IDL option,
  // else ClientOptions::default_timeout, else 10 s). For a stream, how long
  // the whole stream may last; zero: the IDL option, else
  // ClientOptions::default_timeout if set, else no deadline.
  absl::Duration timeout = absl::ZeroDuration();
  // An absolute deadline, typically ServerContext::deadline() of the call
  // being served; the call ends at the earlier of this and `timeout`, so a
  // propagated deadline never grows.
  absl::Time deadline = absl::InfiniteFuture();
  // Headers for this call, after ClientOptions::metadata.
  Metadata metadata{};
  // Unary calls: receives the server's metadata and the call's span; must
  // live until the call ended. Null: not kept.
  ClientContext* context = nullptr;
  // The span this call is a child of (natsrpc/trace.h). Empty: the thread's
  // CurrentTraceContext() (inside a handler, the span of the call it
  // serves), else a valid `traceparent` in `metadata`, else none.
  TraceContext trace_parent{};

  // ---- Instance targeting, retries, wait-for-ready (README.md) ----

  // The server instance this call (or stream) goes to; empty: the
  // client's (ClientOptions::instance).
  std::string instance{};
  // The retry policy of this call; unset: the client's
  // (ClientOptions::retry).
  std::optional<RetryPolicy> retry{};
  // Retry this call even if the IDL does not mark its method idempotent:
  // the caller knows that serving it twice does no harm.
  bool retry_non_idempotent = false;
  // Unset: the client's (ClientOptions::wait_for_ready).
  std::optional<bool> wait_for_ready{};
};

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

// Refers to one asynchronous call; lets the caller cancel it. Copyable; a
// default-constructed handle refers to no call.
class NATSRPC_EXPORT CallHandle {
 public:
  CallHandle() = default;

  // Ends the call with CANCELLED unless it already ended; its callback runs
  // on this thread in that case. Returns true if this call ended it.
  bool Cancel() const;

 private:
  friend class internal::ReplyMux;
  friend class internal::RetryingCall;
  CallHandle(std::weak_ptr<internal::ReplyMux> mux, uint64_t seq)
      : mux_(std::move(mux)), seq_(seq) {}
  explicit CallHandle(std::weak_ptr<internal::RetryingCall> retrying)
      : retrying_(std::move(retrying)) {}

  std::weak_ptr<internal::ReplyMux> mux_;
  uint64_t seq_ = 0;
  // A call with retries or wait-for-ready: its attempts.
  std::weak_ptr<internal::RetryingCall> retrying_;
};

// Counters of a client's reply multiplexer (shared by all clients of one
// connection and requester).
struct ClientStats {
  uint64_t calls_started = 0;
  uint64_t replies_received = 0;
  // Replies for calls that had already ended (late, duplicate, or unknown).
  uint64_t replies_dropped = 0;
  uint64_t timeouts = 0;
};

}  // namespace natsrpc

#endif  // NATSRPC_CLIENT_H_
