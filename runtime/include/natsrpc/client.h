// Copyright 2026 The natsrpc Authors.
//
// The client side of unary calls. Generated `Svc::Client` classes wrap a
// `ClientChannel`; users rarely touch this header directly except for the
// option structs:
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
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "natsrpc/codec.h"
#include "natsrpc/connection.h"
#include "natsrpc/metadata.h"
#include "natsrpc/transport.h"

namespace natsrpc {

namespace internal {
class ReplyMux;
class StreamEndpoint;
}  // namespace internal

// The timeout used when neither the call, the IDL nor ClientOptions set one.
inline constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(10);

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
  // stream at most (its receive window, docs/protocol.md 9.5). 0: 16.
  uint32_t stream_window = 0;
  // Streams: the heartbeat interval this client proposes (9.6); the server
  // may raise it. A stream fails with UNAVAILABLE after 3 intervals without
  // a message from the server. Zero: 5 seconds.
  absl::Duration stream_heartbeat = absl::ZeroDuration();
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
};

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

// Refers to one asynchronous call; lets the caller cancel it. Copyable; a
// default-constructed handle refers to no call.
class CallHandle {
 public:
  CallHandle() = default;
  CallHandle(std::weak_ptr<internal::ReplyMux> mux, uint64_t seq)
      : mux_(std::move(mux)), seq_(seq) {}

  // Ends the call with CANCELLED unless it already ended; its callback runs
  // on this thread in that case. Returns true if this call ended it.
  bool Cancel() const;

 private:
  std::weak_ptr<internal::ReplyMux> mux_;
  uint64_t seq_ = 0;
};

// A method as the generated code describes it.
struct MethodSpec {
  absl::string_view name;
  // From the IDL (`natsrpc.timeout_ms` on the method, service or file);
  // zero if none.
  absl::Duration default_timeout;
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

// The untyped core of a client stub: the subjects of one service, and the
// connection's reply multiplexer.
class ClientChannel {
 public:
  // Completion of a raw call: OK with the reply message, or the status.
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
  std::shared_ptr<internal::StreamEndpoint> OpenStream(
      int method, bool client_sends, const Payload* request,
      absl::string_view content_type, const CallOptions& options);

  // The app the channel's subjects use.
  const std::string& app() const { return app_; }

  ClientStats stats() const;

 private:
  struct Method {
    // Shared with pending calls, which may outlive this channel.
    std::shared_ptr<const std::string> subject;
    absl::Duration timeout;
    std::string name;
    // The timeout of a stream: zero for none.
    absl::Duration stream_timeout;
  };

  // Request metadata of a call: ClientOptions::metadata, then the call's.
  absl::StatusOr<const Metadata*> CallMetadata(const CallOptions& options,
                                               Metadata& merged) const;

  absl::Status status_;
  std::string requester_;
  std::string responder_;
  std::string service_;
  uint32_t stream_window_ = 16;
  absl::Duration stream_heartbeat_;
  std::shared_ptr<internal::ReplyMux> mux_;
  std::string app_;
  std::string reply_prefix_;
  absl::Duration default_timeout_;
  Metadata metadata_;
  std::vector<Method> methods_;
};

namespace internal {

absl::Status ReplyDecodeError(const absl::Status& status);

}  // namespace internal

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
          done(internal::ReplyDecodeError(s));
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

}  // namespace natsrpc

#endif  // NATSRPC_CLIENT_H_
