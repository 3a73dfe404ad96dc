// Copyright 2026 The natsrpc Authors.
//
// The transport seam (layer 3 of the runtime): the few messaging operations
// natsrpc's core needs from NATS. `NatsTransport` (connection.h) implements it
// over nats.c; unit tests implement it in memory. Integration tests always use
// the real one against a real nats-server.

#ifndef NATSRPC_TRANSPORT_H_
#define NATSRPC_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "natsrpc/metadata.h"

namespace natsrpc {

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
  // How many messages arrived on the same subscription after this one and
  // wait for the handler to return, as far as the transport can tell (0 if
  // it cannot). Only meaningful while the handler of this message runs.
  virtual int64_t pending_after() const { return 0; }
};

// Messages are shared so that a zero-copy codec can keep the bytes alive
// beyond the handler that received them.
using MessagePtr = std::shared_ptr<const IncomingMessage>;

// One header of an outgoing message; views into caller-owned memory.
struct HeaderRef {
  absl::string_view key;
  absl::string_view value;
};

// A message to publish. All views must stay valid during Publish().
struct OutgoingMessage {
  absl::string_view subject;
  absl::string_view reply;  // empty: no reply-to
  absl::Span<const HeaderRef> headers;
  const Metadata* metadata = nullptr;  // extra headers, may be null
  absl::string_view data;
  // A hint: nothing else is about to be published (the only call in flight),
  // so write this message at once instead of batching it with what follows.
  bool write_now = false;
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
// already started may still finish afterwards, so handlers must only touch
// state they keep alive themselves.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

class Transport {
 public:
  using MessageHandler = std::function<void(MessagePtr)>;
  using EventListener = std::function<void(const TransportEvent&)>;

  virtual ~Transport() = default;

  // Publishes one message. Errors: UNAVAILABLE when not connected (or
  // closed), RESOURCE_EXHAUSTED when larger than max_payload(), INTERNAL for
  // anything else the client library reports.
  virtual absl::Status Publish(const OutgoingMessage& message) = 0;

  // Subscribes to `subject` (may contain wildcards), in queue group `queue`
  // unless it is empty. `handler` is never run concurrently with itself.
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
};

}  // namespace natsrpc

#endif  // NATSRPC_TRANSPORT_H_
