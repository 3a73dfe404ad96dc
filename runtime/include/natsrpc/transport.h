// Copyright 2026 The natsrpc Authors.
//
// The transport seam: the few messaging operations natsrpc's core (client/,
// server/, stream/ in runtime/src) needs from NATS, and the scheduling
// contract between them (Delivery, FlushPolicy). runtime/src/nats/ implements
// it over nats.c (`Connect()` in connection.h creates one); unit tests use
// tests/support/in_memory_transport.h, which emulates the same contract.
// Integration tests always use the real one against a real nats-server.
//
// The scheduling contract, in short:
//   - A subscription's handler runs on a delivery thread of the transport,
//     one message at a time. `Delivery::pending_after()` tells how many
//     messages wait behind the current one.
//   - What is published on a delivery thread with FlushPolicy::kBatch may be
//     held until the end of the thread's burst: after a handler returns and
//     no message waits any more (or a transport-chosen bound on messages or
//     time is reached). A handler must therefore not block waiting for a
//     reply to what it published, unless it declared so first with
//     `Delivery::SetMayBlock(true)` (MayBlockScope).
//   - FlushPolicy::kNow asks to write a message on the publishing thread at
//     once: the caller knows nothing else is about to be published.

#ifndef NATSRPC_TRANSPORT_H_
#define NATSRPC_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "natsrpc/metadata.h"

namespace natsrpc {

class JetStream;
struct JetStreamOptions;

// A received message. Its views stay valid as long as the object lives;
// codecs may keep the object alive to read a payload without copying it.
class IncomingMessage {
 public:
  virtual ~IncomingMessage() = default;

  virtual absl::string_view subject() const = 0;
  // Empty if the message has no reply-to.
  virtual absl::string_view reply() const = 0;
  virtual absl::string_view data() const = 0;
  // The first value of header `key` (exact, case-sensitive match), if any.
  virtual std::optional<absl::string_view> header(
      absl::string_view key) const = 0;
  // All headers, in order.
  virtual Metadata headers() const = 0;
  // True for the status-503 message NATS sends when a request subject has no
  // subscriber.
  virtual bool is_no_responders() const = 0;
  // OK, or INVALID_ARGUMENT naming the fault if the message's header block
  // is malformed (docs/protocol.md section 3); header() and headers() then
  // find no header at all.
  virtual absl::Status header_status() const { return absl::OkStatus(); }
};

// Messages are shared so that a zero-copy codec can keep the bytes alive
// beyond the handler that received them.
using MessagePtr = std::shared_ptr<const IncomingMessage>;

// One header of an outgoing message; views into caller-owned memory.
struct HeaderRef {
  absl::string_view key;
  absl::string_view value;
};

// When a published message is written to the network.
enum class FlushPolicy {
  // The transport may hold the message to write it together with what
  // follows: until the end of the current burst on a delivery thread (see
  // the top of this file), or until its writer thread gets to it. The
  // default: under load many messages go out in one write.
  kBatch,
  // Write it on the publishing thread before Publish() returns (as far as
  // the socket takes it): nothing else is about to be published, so waiting
  // would only add latency. A hint; a transport that cannot may batch.
  kNow,
};

// A message to publish. All views must stay valid during Publish().
struct OutgoingMessage {
  absl::string_view subject;
  absl::string_view reply;  // empty: no reply-to
  absl::Span<const HeaderRef> headers;
  const Metadata* metadata = nullptr;  // extra headers, may be null
  absl::string_view data;
  FlushPolicy flush = FlushPolicy::kBatch;
};

// Something that happened to the connection.
struct TransportEvent {
  enum class Kind {
    kDisconnected,      // lost the server; nats.c is reconnecting
    kReconnected,       // connected again, subscriptions restored
    kClosed,            // closed for good
    kPermissionDenied,  // the server refused a publish or subscribe
    kError,             // another asynchronous error
  };
  Kind kind;
  // For kPermissionDenied: the subject that was refused, and whether it was a
  // publish (true) or a subscribe (false).
  std::string subject;
  bool publish = true;
  std::string message;
};

// A live subscription. Destroying it unsubscribes; a handler invocation that
// already started may still finish afterwards, and messages that had already
// arrived may still be handed to the handler for a bounded time (the NATS
// transport drains, see docs/platform.md), so handlers must only touch state
// they keep alive themselves.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// The delivery of one message to a subscription's handler. Valid only while
// that handler runs, and only on its thread.
class Delivery {
 public:
  // How many messages arrived on the same subscription after this one and
  // wait for the handler to return, as far as the transport can tell (0 if
  // it cannot). The core uses it to decide whether to run a request here or
  // hand it to a worker, and whether a reply is the only output to come.
  virtual int64_t pending_after() const = 0;

  // Declares whether the handler may now block until a reply to something it
  // publishes arrives (a server handler run on the delivery thread may call
  // other services). While it may, everything published on this thread is
  // written as with FlushPolicy::kNow: the end of the burst, which would
  // write what was held, only comes after the handler returned. Reset when
  // the handler returns. See MayBlockScope.
  virtual void SetMayBlock(bool may_block) = 0;

 protected:
  virtual ~Delivery() = default;
};

// Sets Delivery::SetMayBlock(true) for its lifetime; null: does nothing.
class MayBlockScope {
 public:
  explicit MayBlockScope(Delivery* delivery) : delivery_(delivery) {
    if (delivery_ != nullptr) delivery_->SetMayBlock(true);
  }
  ~MayBlockScope() {
    if (delivery_ != nullptr) delivery_->SetMayBlock(false);
  }
  MayBlockScope(const MayBlockScope&) = delete;
  MayBlockScope& operator=(const MayBlockScope&) = delete;

 private:
  Delivery* const delivery_;
};

// A subscription's handler: called as `handler(message, delivery)`. A
// callable that takes only the message is accepted too.
class MessageHandler {
 public:
  MessageHandler() = default;
  // Implicit on purpose: subscribe with a lambda.
  template <
      typename F,
      std::enable_if_t<std::is_invocable_v<F&, MessagePtr, Delivery&> &&
                           !std::is_same_v<std::decay_t<F>, MessageHandler>,
                       int> = 0>
  MessageHandler(F f) : fn_(std::move(f)) {}  // NOLINT
  template <typename F, std::enable_if_t<
                            std::is_invocable_v<F&, MessagePtr> &&
                                !std::is_invocable_v<F&, MessagePtr, Delivery&>,
                            int> = 0>
  MessageHandler(F f)  // NOLINT
      : fn_([f = std::move(f)](MessagePtr m, Delivery&) mutable {
          f(std::move(m));
        }) {}

  void operator()(MessagePtr message, Delivery& delivery) const {
    fn_(std::move(message), delivery);
  }
  explicit operator bool() const { return static_cast<bool>(fn_); }

 private:
  std::function<void(MessagePtr, Delivery&)> fn_;
};

class Transport {
 public:
  using MessageHandler = natsrpc::MessageHandler;
  using EventListener = std::function<void(const TransportEvent&)>;

  virtual ~Transport() = default;

  // Publishes one message. Errors: UNAVAILABLE when not connected (or
  // closed), RESOURCE_EXHAUSTED when larger than max_payload(), INTERNAL for
  // anything else the client library reports.
  virtual absl::Status Publish(const OutgoingMessage& message) = 0;

  // Subscribes to `subject` (may contain wildcards), in queue group `queue`
  // unless it is empty. `handler` is never run concurrently with itself; it
  // runs on a delivery thread under the contract at the top of this file.
  // The subscription is in effect when this returns OK. Errors: UNAVAILABLE
  // when not connected or the server did not confirm the subscription,
  // PERMISSION_DENIED (naming the subject) when the server refuses it,
  // INTERNAL for anything else.
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view subject, absl::string_view queue,
      MessageHandler handler) = 0;

  // The largest payload (headers included) the server accepts.
  virtual int64_t max_payload() const = 0;

  // True while connected (not reconnecting, not closed).
  virtual bool connected() const = 0;

  // Registers a listener for connection events; returns its id. Listeners
  // run on a library thread and must not block.
  virtual uint64_t AddEventListener(EventListener listener) = 0;
  virtual void RemoveEventListener(uint64_t id) = 0;

  // Closes the connection. Idempotent.
  virtual void Close() = 0;

  // JetStream (natsrpc/jetstream.h) on this connection, for durable
  // requests (natsrpc/durable.h). The object uses the transport's
  // connection: its holder keeps the transport alive as long. Default:
  // UNIMPLEMENTED (a transport without JetStream, e.g. the in-memory one of
  // the tests).
  virtual absl::StatusOr<std::shared_ptr<JetStream>> OpenJetStream(
      const JetStreamOptions& /*options*/) {
    return absl::UnimplementedError("this transport has no JetStream");
  }

  // Events (docs/protocol.md 13): waits at most `timeout` until the NATS
  // server has received everything published on this connection before the
  // call (a PING/PONG round trip). OK; DEADLINE_EXCEEDED when no PONG came
  // in time; UNAVAILABLE when not connected. A transport that delivers as it
  // publishes has nothing to wait for: the default returns OK.
  virtual absl::Status Flush(absl::Duration /*timeout*/) {
    return absl::OkStatus();
  }
};

}  // namespace natsrpc

#endif  // NATSRPC_TRANSPORT_H_
