// Copyright 2026 The natsrpc Authors.
//
// A Transport for unit tests of the core: NATS subject matching (`*`, `>`),
// queue groups, headers and no-responders replies, in memory. Messages are
// delivered synchronously on the publishing thread, which makes unit tests
// deterministic. Integration tests use a real nats-server instead.
//
// It emulates the scheduling contract of natsrpc/transport.h, with one
// ordered output buffer per transport as a NATS connection has:
//   - Publish() appends to the buffer; writing it records everything buffered
//     in sent() and delivers it, in publish order.
//   - A burst is one delivery run on a thread: the delivery of one message
//     (to every matching subscription), or ResumeDelivery(). A delivery that
//     starts inside a run on the same thread joins that run. What a handler
//     publishes with FlushPolicy::kBatch during the run stays in the buffer
//     until the run ends.
//   - Any other publish writes the buffer at once, whatever it holds: with
//     FlushPolicy::kNow, on a thread outside a run (another thread included,
//     as NATS's writer would), and on a delivery thread while its handler
//     may block (Delivery::SetMayBlock).
//   - Delivery::pending_after(): while PauseDelivery() is in effect, messages
//     wait in their subscription's queue; ResumeDelivery() delivers them in
//     order and each handler sees how many wait behind it on the same
//     subscription. Otherwise it is 0.

#ifndef NATSRPC_TESTS_SUPPORT_IN_MEMORY_TRANSPORT_H_
#define NATSRPC_TESTS_SUPPORT_IN_MEMORY_TRANSPORT_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "natsrpc/transport.h"

namespace natsrpc::testing {

class InMemoryTransport final : public Transport {
 public:
  struct Sent {
    std::string subject;
    std::string reply;
    Metadata headers;
    std::string data;

    // The first value of header `key`, or "<absent>".
    std::string Header(absl::string_view key) const {
      for (const auto& [k, v] : headers) {
        if (k == key) return v;
      }
      return "<absent>";
    }
  };

  absl::Status Publish(const OutgoingMessage& message) override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view subject, absl::string_view queue,
      MessageHandler handler) override;
  int64_t max_payload() const override { return max_payload_; }
  bool connected() const override;
  uint64_t AddEventListener(EventListener listener) override;
  void RemoveEventListener(uint64_t id) override;
  void Close() override;

  // Test controls.
  void set_max_payload(int64_t n) { max_payload_ = n; }
  void set_connected(bool connected);
  void Emit(const TransportEvent& event);
  // Every published message, in order.
  std::vector<Sent> sent() const;
  // Delivers a message as if it came from the network.
  void Inject(Sent message);
  // Queues messages for their subscriptions instead of delivering them,
  // until ResumeDelivery(), which delivers what waits on the calling thread.
  void PauseDelivery();
  void ResumeDelivery();
  // Refuses later subscriptions to exactly `subject` as a NATS server
  // refuses one the user may not make: Subscribe returns PERMISSION_DENIED
  // naming the subject, and listeners get a kPermissionDenied event.
  void DenySubscribe(std::string subject);

  static bool SubjectMatches(absl::string_view pattern,
                             absl::string_view subject);

  // Fault injection: Subscribe() first asks `hook`; a non-OK status is
  // returned instead of subscribing (e.g. PERMISSION_DENIED, as
  // nats/nats_transport.cc reports a subscription NATS refused).
  using SubscribeHook = std::function<absl::Status(absl::string_view subject)>;
  void set_subscribe_hook(SubscribeHook hook);
  // Subscriptions live now.
  size_t subscription_count() const;
  // Keeps every handler ever subscribed, even after it was unsubscribed, so
  // that a test can run one late: as a delivery that started before the
  // unsubscribe and finishes after it (natsrpc/transport.h, Subscription).
  void set_keep_handlers(bool keep);
  std::vector<std::pair<std::string, MessageHandler>> kept_handlers() const;
  // Runs `hook` with the subject of each delivered message when the last
  // reference to it is dropped, on the thread dropping it.
  using MessageHook = std::function<void(absl::string_view subject)>;
  void set_on_message_destroyed(MessageHook hook);
  // A message as Inject() would deliver it.
  MessagePtr MakeMessage(Sent message) const;

 private:
  struct Sub {
    uint64_t id;
    std::string subject;
    std::string queue;
    MessageHandler handler;
  };
  class SubHandle;
  struct Queued {
    std::shared_ptr<Sub> sub;
    MessagePtr message;
  };

  // Writes the buffer: records everything in it as sent and delivers it.
  void Flush();
  void Deliver(Sent message);
  void Deliver503(Sent status);
  // Delivers to `targets` now, or queues while paused.
  void DeliverTo(const std::vector<std::shared_ptr<Sub>>& targets,
                 const MessagePtr& message);
  // Runs `deliver` as one burst (see the top of this file).
  void RunBurst(const std::function<void()>& deliver);
  void Unsubscribe(uint64_t id);

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Sub>> subs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, EventListener>> listeners_
      ABSL_GUARDED_BY(mu_);
  std::vector<Sent> sent_ ABSL_GUARDED_BY(mu_);
  std::deque<Sent> buffer_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool connected_ ABSL_GUARDED_BY(mu_) = true;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Queued> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> denied_subscribes_ ABSL_GUARDED_BY(mu_);
  int64_t max_payload_ = 1024 * 1024;
  SubscribeHook subscribe_hook_ ABSL_GUARDED_BY(mu_);
  bool keep_handlers_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<std::string, MessageHandler>> kept_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const MessageHook> on_message_destroyed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsrpc::testing

#endif  // NATSRPC_TESTS_SUPPORT_IN_MEMORY_TRANSPORT_H_
