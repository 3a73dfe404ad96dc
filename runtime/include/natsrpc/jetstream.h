// Copyright 2026 The natsrpc Authors.
//
// The JetStream seam: the few persistence operations natsrpc's durable
// requests (natsrpc/durable.h, docs/protocol.md section 14) need from NATS
// JetStream, beside the plain messaging of natsrpc/transport.h. A transport
// that supports JetStream returns one from Transport::OpenJetStream();
// runtime/src/nats/ implements it over nats.c's `js_*` and `kvStore_*` API
// (the core never includes nats.h).
//
// Every call blocks the calling thread for at most the JetStreamOptions
// timeout (one JetStream API request) unless it says otherwise; none may be
// called from a transport delivery thread (natsrpc/transport.h).

#ifndef NATSRPC_JETSTREAM_H_
#define NATSRPC_JETSTREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "natsrpc/transport.h"

namespace natsrpc {

struct JetStreamOptions {
  // How long one JetStream API request (create, publish, get, put, ack
  // with confirmation) may take.
  absl::Duration timeout = absl::Seconds(5);
};

// A stream created on first use (file storage, limits retention, discard
// old). Zero limits: unlimited.
struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  int64_t max_msgs = 0;
  int64_t max_bytes = 0;
  absl::Duration max_age = absl::ZeroDuration();
  // The window in which a second message with the same `Nats-Msg-Id` is
  // dropped as a duplicate. Zero: the server's default (2 minutes).
  absl::Duration duplicate_window = absl::ZeroDuration();
};

// A durable pull consumer with explicit acks, created on first use.
struct ConsumerSpec {
  std::string stream;
  std::string durable_name;
  std::string filter_subject;
  // A delivered message not acknowledged within this time is delivered
  // again.
  absl::Duration ack_wait = absl::Seconds(30);
  // Unacknowledged messages the server hands out at most.
  int64_t max_ack_pending = 1000;
};

// A key-value bucket created on first use (file storage, one value per
// key). Zero: unlimited.
struct KeyValueSpec {
  std::string bucket;
  absl::Duration ttl = absl::ZeroDuration();
  int64_t max_bytes = 0;
};

// What the stream answered to a publish.
struct PublishAck {
  std::string stream;
  uint64_t sequence = 0;
  // True when the stream already held a message with the same
  // `Nats-Msg-Id` within its duplicate window: nothing was stored.
  bool duplicate = false;
};

// A message delivered by a pull consumer. Acknowledge it exactly once (Ack,
// Nak or Term); one dropped without that is delivered again after the
// consumer's ack wait.
class JetStreamMessage : public IncomingMessage {
 public:
  // How many times the server delivered this message, this time included
  // (1 the first time).
  virtual uint64_t num_delivered() const = 0;
  virtual uint64_t stream_sequence() const = 0;
  // Acknowledges and waits for the server to confirm it: once OK, the
  // message is never delivered again.
  virtual absl::Status Ack() = 0;
  // Asks for a redelivery after `delay` (zero: at once).
  virtual absl::Status Nak(absl::Duration delay) = 0;
  // Never deliver it again.
  virtual absl::Status Term() = 0;
  // Resets the ack wait: the handler still works on it.
  virtual absl::Status InProgress() = 0;
};

class PullConsumer {
 public:
  virtual ~PullConsumer() = default;
  // Up to `batch` messages, waiting up to `wait` for the first one. An empty
  // vector when none came in time. UNAVAILABLE while disconnected.
  virtual absl::StatusOr<std::vector<std::unique_ptr<JetStreamMessage>>> Fetch(
      int batch, absl::Duration wait) = 0;
};

// Waits for the value of one key.
class KeyWatcher {
 public:
  virtual ~KeyWatcher() = default;
  // The key's current value (first call) or its next one; nullopt when none
  // came by `deadline`.
  virtual absl::StatusOr<std::optional<std::string>> Next(
      absl::Time deadline) = 0;
};

class JetStream {
 public:
  virtual ~JetStream() = default;

  // Creates the stream if it does not exist; an existing one is used as it
  // is (its limits are not changed). PERMISSION_DENIED, UNAVAILABLE
  // (JetStream not enabled or not reachable), INTERNAL.
  virtual absl::Status EnsureStream(const StreamSpec& spec) = 0;

  // Publishes `data` with `headers` to a stream subject and waits for the
  // stream's acknowledgement. `msg_id` non-empty: sent as `Nats-Msg-Id`.
  virtual absl::StatusOr<PublishAck> Publish(
      absl::string_view subject, absl::Span<const HeaderRef> headers,
      absl::string_view data, absl::string_view msg_id) = 0;

  // Creates the durable consumer if it does not exist (an existing one is
  // used as it is) and binds a pull subscription to it.
  virtual absl::StatusOr<std::unique_ptr<PullConsumer>> PullSubscribe(
      const ConsumerSpec& spec) = 0;

  // Creates the bucket if it does not exist.
  virtual absl::Status EnsureKeyValue(const KeyValueSpec& spec) = 0;
  // The value of `key`; nullopt if none (or deleted).
  virtual absl::StatusOr<std::optional<std::string>> KeyValueGet(
      absl::string_view bucket, absl::string_view key) = 0;
  virtual absl::Status KeyValuePut(absl::string_view bucket,
                                   absl::string_view key,
                                   absl::string_view value) = 0;
  // Watches one key (its current value first, if any).
  virtual absl::StatusOr<std::unique_ptr<KeyWatcher>> KeyValueWatch(
      absl::string_view bucket, absl::string_view key) = 0;
};

}  // namespace natsrpc

#endif  // NATSRPC_JETSTREAM_H_
