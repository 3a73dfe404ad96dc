// Copyright 2026 The natsrpc Authors.
//
// Routing pieces of streams and cancellation (docs/protocol.md, section 9)
// that the owners (ServerCore, ReplyMux) use; kept apart from them so
// they can be tested alone:
//
// - ServerStreamTable: one server instance's open streams (routing of the
//   instance's stream wildcard, with the token checks of 9.2) and its
//   cancellable calls (routing of the per-service cancel wildcard, 9.8).
// - CheckAccept: the client's check of an `accept` (or refusal) reply.

#ifndef NATSRPC_SRC_STREAM_SERVER_STREAM_TABLE_H_
#define NATSRPC_SRC_STREAM_SERVER_STREAM_TABLE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "natsrpc/transport.h"
#include "stream/stream_endpoint.h"

namespace natsrpc::internal {

// The tokens a stream or call was opened with (from the open request's
// subject and reply-to).
struct StreamOrigin {
  std::string requester, responder, app, service, method;
};

struct ServerStreamTableStats {
  uint64_t routed = 0;             // stream messages handed to an endpoint
  uint64_t dropped_unknown = 0;    // no such stream (ended or never opened)
  uint64_t dropped_mismatch = 0;   // tokens differ from the stream's open
  uint64_t dropped_malformed = 0;  // not a stream or cancel subject
  uint64_t cancels_applied = 0;    // cancel matched a call or stream
  uint64_t cancels_unknown = 0;    // cancel for no call of this instance
  // Cancels for no call of this instance yet, remembered in case their call
  // arrives after them (protocol 9.8), and of those, the ones applied.
  uint64_t cancels_remembered = 0;
  uint64_t cancels_applied_early = 0;
};

class ServerStreamTable {
 public:
  // `instance_id` must be a valid token other than `cancel`.
  explicit ServerStreamTable(std::string instance_id);

  const std::string& instance_id() const { return instance_id_; }

  // Registers a stream accepted for `origin`; returns its stream subject,
  // which the owner sends as the reply-to of `accept`. `reply_to` is the
  // open's (already checked) reply-to, under which a cancel sent before the
  // accept finds the stream.
  std::string AddStream(const StreamOrigin& origin, absl::string_view reply_to,
                        std::shared_ptr<StreamEndpoint> endpoint);
  void RemoveStream(absl::string_view stream_subject);
  size_t open_streams() const;

  // A message on the instance's wire::StreamWildcard(): handed to its endpoint
  // after the checks of protocol 9.2, else dropped and counted. Returns true
  // if routed.
  bool RouteStreamMessage(MessagePtr message);

  // A unary call that a cancel may reach: `reply_to` is its (checked)
  // reply-to subject. `cancel` runs at most once, without locks held; at
  // once, before AddCall returns, if the call's cancel arrived first.
  void AddCall(absl::string_view reply_to, std::function<void()> cancel);
  void RemoveCall(absl::string_view reply_to);

  // A message on a wire::CancelWildcard(): cancels the call or (not yet
  // accepted or accepted) stream with that reply-to. Returns true if one
  // matched. A cancel that matches nothing is remembered for
  // kEarlyCancelTtl (at most kMaxEarlyCancels of them, oldest forgotten
  // first): a call's open or request and its cancel arrive on two
  // subscriptions, whose delivery threads do not keep NATS's order, and
  // AddCall / AddStream apply a remembered cancel.
  bool RouteCancel(const IncomingMessage& message);

  static constexpr absl::Duration kEarlyCancelTtl = absl::Seconds(30);
  static constexpr size_t kMaxEarlyCancels = 10000;
  // Cancels remembered now.
  size_t early_cancels() const;

  // Ticks every stream and forgets the finished ones.
  void TickAll();

  // Ends every open stream with `status`, telling the peers.
  void CancelAll(const absl::Status& status);

  ServerStreamTableStats stats() const;

 private:
  struct Entry {
    StreamOrigin origin;
    std::string reply_to;
    std::shared_ptr<StreamEndpoint> endpoint;
  };
  struct EarlyCancel {
    std::string service;
    std::string method;
    absl::Time expires;
  };

  // Removes and returns the remembered cancel of `reply_to`, if any, and
  // forgets expired ones.
  std::optional<EarlyCancel> TakeEarlyCancel(absl::string_view reply_to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberCancel(std::string reply_to, EarlyCancel cancel)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string instance_id_;
  mutable absl::Mutex mu_;
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  // By stream subject.
  absl::flat_hash_map<std::string, Entry> streams_ ABSL_GUARDED_BY(mu_);
  // Reply-to of each stream -> its stream subject.
  absl::flat_hash_map<std::string, std::string> stream_by_reply_
      ABSL_GUARDED_BY(mu_);
  // Reply-to of each cancellable unary call -> its cancel.
  absl::flat_hash_map<std::string, std::function<void()>> calls_
      ABSL_GUARDED_BY(mu_);
  // Cancels that matched nothing yet, by reply-to, and their reply-tos
  // oldest first (entries whose cancel was applied are skipped lazily).
  absl::flat_hash_map<std::string, EarlyCancel> early_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> early_order_
      ABSL_GUARDED_BY(mu_);
  ServerStreamTableStats stats_ ABSL_GUARDED_BY(mu_);
};

// What the client learns from the first message of a stream on its reply-to.
struct AcceptInfo {
  std::string stream_subject;  // where the client publishes from now on
  uint64_t credit = 0;         // the server's initial credit
  // Revision 5: the server's initial byte credit (`Natsrpc-Credit-Bytes`);
  // none from a server of revision <= 4.
  std::optional<uint64_t> credit_bytes;
  absl::Duration heartbeat;  // the interval both sides use
};

// Checks the first message of a stream (protocol 9.3). `open_subject` is the
// subject the client's open was published on. Returns the accept, or the
// status that ends the stream: the refusal's status (an `end` with count 0,
// or a v1 unary-style error reply), UNAVAILABLE for no responders, INTERNAL
// for a malformed accept (wrong stream subject, missing headers).
absl::StatusOr<AcceptInfo> CheckAccept(const IncomingMessage& message,
                                       absl::string_view open_subject,
                                       absl::Duration default_heartbeat);

// The interval the server announces in accept: the client's proposal, raised
// to `server_min`; `server_min` if the client proposed nothing or garbage.
absl::Duration NegotiateHeartbeat(std::optional<absl::string_view> proposed,
                                  absl::Duration server_min);

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_STREAM_SERVER_STREAM_TABLE_H_
