// Copyright 2026 The natsrpc Authors.
//
// For generated code, not for users: the untyped core of a generated client
// stub (one service's subjects over the connection's reply multiplexer) and
// the typed unary calls generated methods make. Users hold the generated
// `Svc::Client` instead (natsrpc/client.h documents its options).

#ifndef NATSRPC_IMPL_CLIENT_CHANNEL_H_
#define NATSRPC_IMPL_CLIENT_CHANNEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "natsrpc/client.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/export.h"
#include "natsrpc/fanout.h"
#include "natsrpc/metadata.h"
#include "natsrpc/trace.h"
#include "natsrpc/transport.h"

namespace natsrpc::internal {

class GatherMux;
class ReplyMux;
class StreamEndpoint;
struct ClientMethodCounters;
struct RetryPlan;
struct UnaryRoute;

// A method as the generated code describes it.
struct MethodSpec {
  absl::string_view name;
  // From the IDL (`natsrpc.timeout_ms` on the method, service or file);
  // zero if none.
  absl::Duration default_timeout;
  // What flows each way; interceptors see it (natsrpc/interceptor.h).
  CallKind kind = CallKind::kUnary;
  // The IDL marks the method idempotent: ClientOptions::retry applies to it
  // without CallOptions::retry_non_idempotent (natsrpc/client.h).
  bool idempotent = false;
};

// The untyped core of a client stub: the subjects of one service, and the
// connection's reply multiplexer.
class NATSRPC_EXPORT ClientChannel {
 public:
  // Completion of a raw call: OK with the reply message, or the status
  // (with the error reply's message if the server sent one, else null).
  using RawCallback = absl::AnyInvocable<void(absl::Status, MessagePtr)>;

  // Never fails; a bad option (a requester, responder or app that is not a
  // subject token) is kept in status() and ends every call with it.
  ClientChannel(const Connection& connection, const ClientOptions& options,
                absl::string_view service, absl::string_view default_app,
                absl::Span<const MethodSpec> methods);
  ~ClientChannel();

  ClientChannel(const ClientChannel&) = delete;
  ClientChannel& operator=(const ClientChannel&) = delete;

  // OK, or why this channel cannot make calls (INVALID_ARGUMENT naming the
  // field, or the error of subscribing to replies).
  const absl::Status& status() const { return status_; }

  // Sends a request for method number `method` (index into `methods`) and
  // arranges for `done` to run exactly once. `done` may run before
  // StartCall() returns (for example when the request cannot be sent).
  CallHandle StartCall(int method, const Payload& request,
                       absl::string_view content_type,
                       const CallOptions& options, RawCallback done);

  // Opens a stream on method number `method` (docs/protocol.md section 9).
  // `client_sends`: a client or bidi stream. `request`: the one request of a
  // server stream (null for the others). Never null; a stream that cannot
  // be opened comes back failed, its reads and writes return why.
  std::shared_ptr<StreamEndpoint> OpenStream(int method, bool client_sends,
                                             const Payload* request,
                                             absl::string_view content_type,
                                             const CallOptions& options);

  // The app the channel's subjects use.
  const std::string& app() const { return app_; }

  ClientStats stats() const;

  // ---- Events and scatter-gather (natsrpc/fanout.h, docs/protocol.md 13) --

  // Publishes an event for method number `method` without a reply-to, to the
  // method's subject (one instance: the queue group) or, if `broadcast`, to
  // its every-instance subject. `confirm`: then waits for the NATS server
  // to confirm it received it (Transport::Flush). No Content-Type is sent
  // (optional on a request, docs/protocol.md 3): an event without metadata
  // or trace context is a message without headers.
  absl::Status PublishEvent(int method, const Payload& event, bool broadcast,
                            bool confirm, const EventOptions& options);

  // One instance's reply to a scatter-gather request: OK with the reply
  // message, or the status it answered with.
  struct RawGatherReply {
    std::string instance_id;
    absl::Status status;
    MessagePtr message;  // null for an error without a body
  };
  using RawGatherCallback =
      absl::AnyInvocable<void(absl::Status, std::vector<RawGatherReply>)>;

  // Sends one request for method number `method` to every instance and
  // collects the replies until one of GatherOptions' limits ends the call;
  // then runs `done` once with OK and the replies (in arrival order), or
  // with why the request could not be sent. `blocking`: `done` runs on this
  // thread before StartGather() returns; otherwise on a runtime thread (the
  // one that received the last reply, or the one that ended the call at its
  // deadline or stall interval), which it must not block.
  void StartGather(int method, const Payload& request,
                   absl::string_view content_type, const GatherOptions& options,
                   RawGatherCallback done, bool blocking);

 private:
  struct Method {
    // Subject and counters of unary calls, shared with the calls in flight,
    // which may outlive this channel.
    std::shared_ptr<UnaryRoute> route;
    // The request subject (points into `route`).
    std::shared_ptr<const std::string> subject;
    absl::Duration timeout;
    std::string name;
    // The timeout of a stream: zero for none.
    absl::Duration stream_timeout;
    CallKind kind;
    // Connection::client_stats() of this method.
    std::shared_ptr<ClientMethodCounters> counters;
    bool idempotent = false;
  };
  // Where one unary call goes and what it does beyond one attempt.
  struct CallRoute {
    // The method's route, or one to the instance of CallOptions::instance.
    std::shared_ptr<UnaryRoute> route;
    // Retries and wait-for-ready (client/retry.h); null: one attempt.
    const RetryPlan* plan = nullptr;
  };

  // ---- Instance targeting, retries, wait-for-ready ----
  // The route of a call of `m` with `options` (its instance's, if any).
  absl::StatusOr<std::shared_ptr<UnaryRoute>> CallSubject(
      const Method& m, const CallOptions& options) const;
  // The instance a stream of `options` is addressed to (empty: any), or
  // INVALID_ARGUMENT for a bad CallOptions::instance.
  absl::StatusOr<std::string> CallInstance(const CallOptions& options) const;
  // Fills `plan` for a call of `m` and returns it, or null when the call
  // makes one attempt only (then `plan` stays empty: nothing allocated on
  // the path of a plain call).
  const RetryPlan* PlanCall(const Method& m, const CallOptions& options,
                            std::optional<RetryPlan>& plan) const;
  // Sends the call: one attempt through the multiplexer, or a RetryingCall.
  // If `count`, its end is counted in the method's client stats (latency
  // since `start`), once however many attempts it takes.
  CallHandle Send(const Method& m, const CallRoute& route, absl::Time start,
                  absl::string_view content_type, const Metadata* metadata,
                  absl::string_view payload, absl::Time deadline,
                  RawCallback done, bool count);

  // Request metadata of a call: ClientOptions::metadata, then the call's.
  absl::StatusOr<const Metadata*> CallMetadata(const CallOptions& options,
                                               Metadata& merged) const;

  // Wraps `done` to fill `context` from the reply first.
  static RawCallback FillContext(ClientContext* context, RawCallback done);
  // StartCall with ClientOptions::interceptors (natsrpc/interceptor.h).
  // `span`: the call's span before the interceptors.
  CallHandle StartIntercepted(const Method& m, const CallRoute& route,
                              absl::Time start, absl::string_view payload,
                              absl::string_view content_type,
                              const Metadata* metadata, TraceContext span,
                              ClientContext* context, absl::Time deadline,
                              RawCallback done);

  absl::Status status_;
  std::string requester_;
  std::string responder_;
  std::string service_;
  uint32_t stream_window_ = 0;  // messages; 0: the defaults
  uint64_t stream_window_bytes_ = 0;
  absl::Duration stream_heartbeat_;
  std::shared_ptr<ReplyMux> mux_;
  std::string app_;
  std::string reply_prefix_;
  absl::Duration default_timeout_;
  Metadata metadata_;
  // Empty for most clients: calls then take the path without interceptors.
  std::vector<std::shared_ptr<ClientInterceptor>> interceptors_;
  std::vector<Method> methods_;
  // ClientOptions::instance, retry and wait_for_ready.
  std::string instance_;
  RetryPolicy retry_;
  bool wait_for_ready_ = false;
  std::shared_ptr<Transport> transport_;
  // Events and scatter-gather publish and subscribe on it directly.
  std::optional<Connection> fanout_connection_;
  // Scatter-gather calls; null if the channel is not usable (status_).
  std::unique_ptr<GatherMux> gathers_;
};

NATSRPC_EXPORT absl::Status ReplyDecodeError(const absl::Status& status);

// Typed asynchronous unary call: what generated `MethodAsync` does.
template <template <class> class Codec, typename Resp, typename Req>
CallHandle AsyncUnaryCall(ClientChannel& channel, int method,
                          const Req& request, Callback<Resp> done,
                          const CallOptions& options) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    done(std::move(s));
    return CallHandle();
  }
  return channel.StartCall(
      method, payload, Codec<Req>::kContentType, options,
      [done = std::move(done)](absl::Status status, MessagePtr reply) mutable {
        if (!status.ok()) {
          done(std::move(status));
          return;
        }
        Resp response;
        if (absl::Status s = Codec<Resp>::Decode(reply, response); !s.ok()) {
          done(ReplyDecodeError(s));
          return;
        }
        done(std::move(response));
      });
}

// Typed blocking unary call: what generated `Method` does.
template <template <class> class Codec, typename Resp, typename Req>
absl::StatusOr<Resp> BlockingUnaryCall(ClientChannel& channel, int method,
                                       const Req& request,
                                       const CallOptions& options) {
  absl::StatusOr<Resp> result;
  absl::Notification done;
  AsyncUnaryCall<Codec, Resp, Req>(
      channel, method, request,
      [&result, &done](absl::StatusOr<Resp> r) {
        result = std::move(r);
        done.Notify();
      },
      options);
  done.WaitForNotification();
  return result;
}

// ---- Events and scatter-gather (natsrpc/fanout.h) ----

// Typed event publish: what generated `Event` and `EventConfirmed` do.
template <template <class> class Codec, typename Req>
absl::Status PublishEvent(ClientChannel& channel, int method, const Req& event,
                          bool broadcast, bool confirm,
                          const EventOptions& options) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(event, payload); !s.ok()) return s;
  return channel.PublishEvent(method, payload, broadcast, confirm, options);
}

// Typed scatter-gather: what generated `MethodAll` and `MethodAllAsync` do.
template <template <class> class Codec, typename Resp, typename Req>
void StartGather(ClientChannel& channel, int method, const Req& request,
                 Callback<std::vector<GatherReply<Resp>>> done,
                 const GatherOptions& options, bool blocking) {
  Payload payload;
  if (absl::Status s = Codec<Req>::Encode(request, payload); !s.ok()) {
    done(std::move(s));
    return;
  }
  channel.StartGather(
      method, payload, Codec<Req>::kContentType, options,
      [done = std::move(done)](
          absl::Status status,
          std::vector<ClientChannel::RawGatherReply> raw) mutable {
        if (!status.ok()) {
          done(std::move(status));
          return;
        }
        std::vector<GatherReply<Resp>> replies;
        replies.reserve(raw.size());
        for (ClientChannel::RawGatherReply& r : raw) {
          GatherReply<Resp> out{std::move(r.instance_id),
                                absl::UnknownError("no reply")};
          if (!r.status.ok()) {
            out.reply = std::move(r.status);
          } else {
            Resp response;
            if (absl::Status s = Codec<Resp>::Decode(r.message, response);
                !s.ok()) {
              out.reply = ReplyDecodeError(s);
            } else {
              out.reply = std::move(response);
            }
          }
          replies.push_back(std::move(out));
        }
        done(std::move(replies));
      },
      blocking);
}

template <template <class> class Codec, typename Resp, typename Req>
absl::StatusOr<std::vector<GatherReply<Resp>>> BlockingGather(
    ClientChannel& channel, int method, const Req& request,
    const GatherOptions& options) {
  absl::StatusOr<std::vector<GatherReply<Resp>>> result;
  StartGather<Codec, Resp, Req>(
      channel, method, request,
      [&result](absl::StatusOr<std::vector<GatherReply<Resp>>> r) {
        result = std::move(r);
      },
      options, /*blocking=*/true);
  return result;
}

}  // namespace natsrpc::internal

#endif  // NATSRPC_IMPL_CLIENT_CHANNEL_H_
