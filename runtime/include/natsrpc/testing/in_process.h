// Copyright 2026 The natsrpc Authors.
//
// An in-process test channel: generated clients call services of the same
// process without NATS, for fast unit tests of handlers and of code that
// makes calls. Only the NATS connection is replaced (by InProcessTransport,
// a natsrpc::Transport, natsrpc/transport.h); clients and servers are the
// real ones, so codecs, deadlines, metadata, status mapping, streams and
// interceptors behave exactly as over NATS, and messages carry the subjects
// and headers of docs/protocol.md.
//
//   natsrpc::testing::InProcessChannel channel;
//   CalculatorImpl impl;                                  // your handlers
//   natsrpc::Server server(channel.connection(), {.responder = "bob"});
//   ASSERT_TRUE(server.AddService(impl).ok());
//   example::v1::Calculator::Client calc(
//       channel.connection(), {.requester = "alice", .responder = "bob"});
//   absl::StatusOr<example::v1::AddReply> r = calc.Add(request);
//
// Link natsrpc::testing (CMake target natsrpc_testing), a small library of
// its own so production code never links it.

#ifndef NATSRPC_TESTING_IN_PROCESS_H_
#define NATSRPC_TESTING_IN_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/connection.h"
#include "natsrpc/transport.h"

namespace natsrpc::testing {

// A Transport that routes messages inside the process as a NATS server
// routes them between connections: subjects with `*` and `>` wildcards,
// queue groups (one member per message, in turn), headers, and the
// no-responders status for a request nobody subscribes to. Each
// subscription delivers on a thread of its own, one message at a time and
// in publish order, as nats.c does; so a handler may block on a reply that
// another subscription receives. Every publish is delivered at once
// (FlushPolicy is a hint; Delivery::SetMayBlock has nothing to change).
// Thread-safe.
class InProcessTransport final : public Transport {
 public:
  // `max_payload`: the largest message, headers included (NATS's default
  // is 1 MiB); a larger publish fails RESOURCE_EXHAUSTED.
  explicit InProcessTransport(int64_t max_payload = 1024 * 1024);
  // Stops delivery; handlers already running finish on their threads.
  ~InProcessTransport() override;

  absl::Status Publish(const OutgoingMessage& message) override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view subject, absl::string_view queue,
      MessageHandler handler) override;
  int64_t max_payload() const override { return max_payload_; }
  bool connected() const override;
  uint64_t AddEventListener(EventListener listener) override;
  void RemoveEventListener(uint64_t id) override;
  // Further publishes and subscribes fail UNAVAILABLE, queued messages are
  // dropped, and listeners get kClosed. Idempotent.
  void Close() override;

  // True if NATS would deliver a message on `subject` to a subscription to
  // `pattern`.
  //
  //   SubjectMatches("requests.*.bob.>", "requests.alice.bob.app.S.M") -> true
  //   SubjectMatches("a.*", "a.b.c")                                   -> false
  static bool SubjectMatches(absl::string_view pattern,
                             absl::string_view subject);

 private:
  struct Sub;
  class SubHandle;

  void Unsubscribe(const std::shared_ptr<Sub>& sub);
  void Emit(const TransportEvent& event);

  const int64_t max_payload_;
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t turn_ ABSL_GUARDED_BY(mu_) = 0;  // queue-group rotation
  std::vector<std::shared_ptr<Sub>> subs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, EventListener>> listeners_
      ABSL_GUARDED_BY(mu_);
};

// A Connection over a fresh InProcessTransport: hand connection() to
// generated clients and to natsrpc::Server as you would the result of
// natsrpc::Connect(). Clients and servers of one channel reach each other;
// different channels are separate worlds.
class InProcessChannel {
 public:
  explicit InProcessChannel(int64_t max_payload = 1024 * 1024);
  ~InProcessChannel();
  InProcessChannel(const InProcessChannel&) = delete;
  InProcessChannel& operator=(const InProcessChannel&) = delete;

  const Connection& connection() const { return connection_; }
  InProcessTransport& transport() const { return *transport_; }

 private:
  std::shared_ptr<InProcessTransport> transport_;
  Connection connection_;
};

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTING_IN_PROCESS_H_
