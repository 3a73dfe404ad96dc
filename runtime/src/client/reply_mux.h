// Copyright 2026 The natsrpc Authors.
//
// The client's call table (core layer): one wildcard subscription
// `responses.<requester>.*.*.<client id>.*` per connection and requester,
// pending calls by seq, deadlines on one timer thread, and connection events
// mapped onto pending calls. Every call completes exactly once.

#ifndef NATSRPC_SRC_CLIENT_REPLY_MUX_H_
#define NATSRPC_SRC_CLIENT_REPLY_MUX_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/client_metrics.h"
#include "natsrpc/impl/client_channel.h"
#include "natsrpc/transport.h"
#include "stream/client_stream.h"

namespace natsrpc::internal {

// One unary method of a client stub as its calls in flight see it: shared
// with them, since they may outlive the stub.
struct UnaryRoute {
  std::string subject;  // the method's request subject
  // Connection::client_stats() of the method; every call ends there once.
  std::shared_ptr<ClientMethodCounters> counters;
  // Whether the responder reads revision 5's lean unary form
  // (docs/protocol.md 3.3): learnt from its replies, forgotten when a reply
  // to a lean request shows an older server.
  std::atomic<bool> lean{false};
};

class ReplyMux : public std::enable_shared_from_this<ReplyMux> {
 public:
  // `replies`, if set, counts the replies that find no call.
  static absl::StatusOr<std::shared_ptr<ReplyMux>> Create(
      std::shared_ptr<Transport> transport, absl::string_view requester,
      std::shared_ptr<ReplyCounters> replies = nullptr);

  ReplyMux(std::shared_ptr<Transport> transport, absl::string_view requester,
           std::shared_ptr<ReplyCounters> replies = nullptr);
  ~ReplyMux();

  const std::string& client_id() const { return client_id_; }

  // Publishes a request on `route`'s subject whose reply-to is
  // `reply_prefix` + seq and completes `done` exactly once (possibly before
  // returning). If `count`, the call's end is counted in `route`'s counters
  // first, with the latency since `start`. If `mark_undelivered`, a call
  // that surely reached no server (not connected, no responders) ends with
  // a status marked by NotDelivered (client/retry.h), for wait-for-ready.
  CallHandle Start(std::shared_ptr<UnaryRoute> route, absl::Time start,
                   absl::string_view reply_prefix,
                   absl::string_view content_type, const Metadata* metadata,
                   absl::string_view payload, absl::Time deadline,
                   ClientChannel::RawCallback done, bool count = true,
                   bool mark_undelivered = false);

  // Completes call `seq` with `status` if it is still pending.
  bool Complete(uint64_t seq, absl::Status status);

  // Completes call `seq` with CANCELLED if it is still pending and tells
  // the server through the call's cancel subject (protocol 9.8).
  bool Cancel(uint64_t seq);

  // Opens a stream (protocol 9.3): takes a seq, routes every message on its
  // reply-to to the stream, enforces `params.deadline`, ticks it
  // (heartbeats, liveness) and fails it when the connection is lost.
  // `params.client_id` and `params.seq` are filled in here. Never null: a
  // stream that cannot be opened is returned failed.
  std::shared_ptr<StreamEndpoint> OpenStream(ClientStreamParams params);

  ClientStats stats() const;

 private:
  struct Pending {
    ClientChannel::RawCallback done;
    absl::Time deadline;
    std::shared_ptr<UnaryRoute> route;
    absl::Time start;   // for the latency counted at the end
    bool count = true;  // count the end in route->counters
    // The timeout token of a lean request (its reply-to's last token is
    // `<seq>-<timeout>`); empty for a revision-4 request.
    std::string lean_timeout;
    // Start's `mark_undelivered`.
    bool mark_undelivered = false;

    const std::string& subject() const { return route->subject; }
    // Ends the call: its method's counters, then `done`.
    void Finish(absl::Status status, MessagePtr reply) {
      if (count) route->counters->Finish(status.code(), start);
      done(std::move(status), std::move(reply));
    }
  };
  struct OpenStreamEntry {
    std::shared_ptr<ClientStream> stream;
    absl::Time deadline;
    std::string subject;  // the open subject
  };

  absl::Status Subscribe();
  void OnReply(MessagePtr message);
  // Updates call.route->lean from a reply to `call` (docs/protocol.md 3.3,
  // negotiation).
  static void LearnLeanForm(const Pending& call, const IncomingMessage& reply);
  void OnEvent(const TransportEvent& event);
  void TimerLoop();
  // Removes and returns every pending call, or only those whose request
  // subject is `*only_subject`.
  std::vector<Pending> TakeAll(const std::string* only_subject);
  // Fails every open stream (or those opened on `*only_subject`) without
  // telling the server, and forgets them.
  void FailStreams(const absl::Status& status, const std::string* only_subject);
  // Ticks every open stream and forgets the finished ones.
  void TickStreams();

  const std::shared_ptr<Transport> transport_;
  const std::string requester_;
  const std::string client_id_;
  std::unique_ptr<Subscription> subscription_;
  uint64_t listener_id_ = 0;

  mutable absl::Mutex mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, OpenStreamEntry> streams_ ABSL_GUARDED_BY(mu_);
  absl::Time next_tick_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // (deadline, seq) of every pending call and open stream, earliest first.
  absl::btree_set<std::pair<absl::Time, uint64_t>> deadlines_
      ABSL_GUARDED_BY(mu_);
  absl::CondVar timer_cv_;
  // When the timer thread wakes next on its own (it sleeps until the
  // earliest deadline it saw). A new call only signals it if its deadline is
  // earlier: with one call at a time every call is the earliest pending one,
  // and waking the timer thread for each would cost a context switch per
  // call.
  absl::Time timer_wakes_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set when the server refused our response subscription.
  absl::Status broken_ ABSL_GUARDED_BY(mu_);
  std::thread timer_;
  // Points at a flag on the timer thread's stack; written and read only by
  // that thread (~ReplyMux writes it only when it runs there).
  bool* timer_destroyed_ = nullptr;

  // Replies that find no call, by why (ClientMetrics).
  const std::shared_ptr<ReplyCounters> replies_;
  // The seqs of the calls that ended at their deadline, the latest
  // kRememberedTimeouts, oldest first: a reply to one of them is late, to
  // another ended call a duplicate.
  static constexpr size_t kRememberedTimeouts = 4096;
  absl::flat_hash_set<uint64_t> timed_out_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> timed_out_order_ ABSL_GUARDED_BY(mu_);
  void RememberTimeout(uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a reply that found no call (mu_ held).
  void CountUnmatched(uint64_t seq, const IncomingMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<uint64_t> calls_started_{0};
  std::atomic<uint64_t> replies_received_{0};
  std::atomic<uint64_t> replies_dropped_{0};
  std::atomic<uint64_t> timeouts_{0};
};

}  // namespace natsrpc::internal

#endif  // NATSRPC_SRC_CLIENT_REPLY_MUX_H_
