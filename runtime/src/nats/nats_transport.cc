// Copyright 2026 The natsrpc Authors.

#include "nats/nats_transport.h"

#include <nats/nats.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "nats/event_loop.h"
#include "nats/jetstream.h"
#include "nats/nats_internals.h"
#include "nats/nats_message.h"

namespace natsrpc::internal {
namespace {

absl::Status PublishError(natsStatus s, absl::string_view subject) {
  switch (s) {
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
      return absl::UnavailableError(
          absl::StrCat("cannot publish to ", subject, ": ", NatsText(s)));
    case NATS_MAX_PAYLOAD:
      return absl::ResourceExhaustedError(absl::StrCat(
          "message to ", subject, " exceeds the server's max_payload"));
    case NATS_NOT_PERMITTED:
      return absl::PermissionDeniedError(
          absl::StrCat("publish to ", subject, " not permitted"));
    default:
      return absl::InternalError(
          absl::StrCat("cannot publish to ", subject, ": ", NatsText(s)));
  }
}

// How many handlers on this thread's stack declared they may block
// (Delivery::SetMayBlock). Read by Publish on the same thread: what such a
// handler publishes, through any connection, is written at once.
thread_local int tl_may_block = 0;

// The delivery of one message on a subscription's delivery thread.
class NatsDelivery final : public Delivery {
 public:
  explicit NatsDelivery(natsSubscription* sub) : sub_(sub) {}
  ~NatsDelivery() override { SetMayBlock(false); }
  NatsDelivery(const NatsDelivery&) = delete;
  NatsDelivery& operator=(const NatsDelivery&) = delete;

  int64_t pending_after() const override {
    int msgs = 0;
    // nats.c keeps the subscription alive while its handler runs.
    if (natsSubscription_GetPending(sub_, &msgs, nullptr) != NATS_OK) return 0;
    return msgs;
  }
  void SetMayBlock(bool may_block) override {
    if (may_block != may_block_) tl_may_block += may_block ? 1 : -1;
    may_block_ = may_block;
  }

 private:
  natsSubscription* const sub_;
  bool may_block_ = false;
};

// Heap state a nats.c subscription points at. Freed by whichever comes
// second of nats.c's on-complete callback (no handler can run any more) and
// ~NatsSubscription.
struct SubscriptionClosure {
  SubscriptionClosure(Transport::MessageHandler h, std::shared_ptr<EventLoop> l,
                      bool fast)
      : handler(std::move(h)), loop(std::move(l)), fast_path(fast) {}

  const Transport::MessageHandler handler;
  const std::shared_ptr<EventLoop> loop;  // null: no bursts
  const bool fast_path;

  absl::Mutex mu;
  bool completed ABSL_GUARDED_BY(mu) = false;   // OnSubscriptionComplete ran
  bool owner_gone ABSL_GUARDED_BY(mu) = false;  // ~NatsSubscription ran
  // Set by ~NatsSubscription when a drain releases the subscription.
  natsSubscription* release_on_complete ABSL_GUARDED_BY(mu) = nullptr;
};

// A burst ends after this many messages or this long, even if more wait.
constexpr int kMaxBurstMessages = 64;
constexpr absl::Duration kMaxBurstTime = absl::Microseconds(200);

// Runs on the subscription's own delivery thread (the transport never turns
// on nats.c's shared delivery pool). What the handlers publish while more
// messages wait in the subscription's queue is written in one go by this
// thread once the queue is empty (EventLoop::BeginBurst): instead of waking
// the loop thread with an epoll_ctl per burst, and writing after only part
// of the burst. A burst ends after kMaxBurstMessages messages or
// kMaxBurstTime, and when the subscription ends (OnSubscriptionComplete).
// The limits are checked between messages: output other threads publish
// during a burst may also wait for the handler that is running (client
// callbacks must not block; inline server handlers are fast ones, and what
// they publish themselves is written at once, see Delivery::SetMayBlock).
void OnSubscriptionMessage(natsConnection*, natsSubscription* sub, natsMsg* msg,
                           void* closure) {
  auto* c = static_cast<SubscriptionClosure*>(closure);
  EventLoop* loop = c->loop.get();
  thread_local int burst_messages = 0;
  thread_local absl::Time burst_start;
  if (loop != nullptr && !loop->InBurst()) {
    loop->BeginBurst();
    burst_messages = 0;
    burst_start = absl::Now();
  }
  {
    NatsDelivery delivery(sub);
    c->handler(std::make_shared<NatsMessage>(msg, c->fast_path), delivery);
  }
  if (loop == nullptr) return;
  int pending = 0;
  if (natsSubscription_GetPending(sub, &pending, nullptr) != NATS_OK ||
      pending == 0 || ++burst_messages >= kMaxBurstMessages ||
      absl::Now() - burst_start >= kMaxBurstTime) {
    loop->EndBurst();
  }
}

void OnSubscriptionComplete(void* closure) {
  auto* c = static_cast<SubscriptionClosure*>(closure);
  // On the delivery thread, after its last message.
  if (c->loop != nullptr) c->loop->EndBurst();
  natsSubscription* release = nullptr;
  {
    absl::MutexLock lock(&c->mu);
    c->completed = true;
    if (!c->owner_gone) return;  // ~NatsSubscription frees it all
    release = c->release_on_complete;
  }
  // The drain is over: the subscription is closed and out of the
  // connection's table, so Destroy only drops our reference.
  if (release != nullptr) natsSubscription_Destroy(release);
  delete c;
}

// Why a drain and not natsSubscription_Unsubscribe: nats.c 3.4.1's
// natsConn_processMsg looks the subscription up in the connection's table
// and uses it after releasing the table's lock without holding a reference
// (fixed in nats.c 3.6.1). Unsubscribe removes it from the table at once;
// with Destroy and the delivery thread's exit the subscription is freed
// while the thread reading the socket (our event loop's) may still be
// queueing a message for it: a crash tearing down a server under a flood of
// requests (issue 11). A drain sends UNSUB and a PING, and removes the
// subscription from the table only after the PONG, behind every message
// the server sent before it processed the UNSUB: no message for it is being
// read then. Messages that arrived before the UNSUB are still handed to the
// handler (as a message being handled could be before).
constexpr int64_t kDrainTimeoutMs = 10000;

class NatsSubscription final : public Subscription {
 public:
  // `closure` is null if its on-complete callback could not be set.
  NatsSubscription(natsSubscription* sub, SubscriptionClosure* closure)
      : sub_(sub), closure_(closure) {}
  ~NatsSubscription() override {
    if (closure_ == nullptr) {
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
      return;
    }
    // Fails if the subscription or its connection is closed already: then
    // nothing reads messages for it any more.
    const bool draining =
        natsSubscription_DrainTimeout(sub_, kDrainTimeoutMs) == NATS_OK;
    bool completed;
    {
      absl::MutexLock lock(&closure_->mu);
      completed = closure_->completed;
      if (!completed) {
        closure_->owner_gone = true;
        // OnSubscriptionComplete releases the subscription and frees the
        // closure once the drain is over (at most kDrainTimeoutMs, after
        // which nats.c closes the subscription).
        if (draining) closure_->release_on_complete = sub_;
      }
    }
    if (completed || !draining) {
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
    }
    if (completed) delete closure_;
  }
  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;

 private:
  natsSubscription* const sub_;
  SubscriptionClosure* const closure_;
};

// Connection callbacks arrive on nats.c's threads; this object outlives the
// natsConnection (see NatsTransport's destructor).
class EventHub {
 public:
  uint64_t Add(Transport::EventListener listener) {
    absl::MutexLock lock(&mu_);
    listeners_.emplace_back(++next_id_, std::move(listener));
    return next_id_;
  }
  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
  }
  void Emit(const TransportEvent& event) {
    std::vector<Transport::EventListener> copy;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& l : listeners_) copy.push_back(l.second);
    }
    for (auto& l : copy) l(event);
  }

  // Drops every listener: nothing may be called back once the transport
  // that handed them out is gone.
  void Clear() {
    absl::MutexLock lock(&mu_);
    listeners_.clear();
  }

  // Notified by OnClosed, nats.c's last callback of the connection.
  absl::Notification closed;
  // Set (on the callback thread) by a transport destroyed there before its
  // closed callback ran: OnClosed then deletes the hub.
  bool delete_on_closed = false;

 private:
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<uint64_t, Transport::EventListener>> listeners_
      ABSL_GUARDED_BY(mu_);
};

// nats.c 3.4.1 runs every connection callback of the process (closed,
// disconnected, reconnected, error) on one thread of its own. True on that
// thread while one of ours runs: a transport destroyed there (the last
// Connection dropped by a callback) must not wait for a closed callback
// that only this thread can deliver (see ~NatsTransport).
thread_local bool tl_in_connection_callback = false;

class ConnectionCallbackScope {
 public:
  ConnectionCallbackScope() : outer_(tl_in_connection_callback) {
    tl_in_connection_callback = true;
  }
  ~ConnectionCallbackScope() { tl_in_connection_callback = outer_; }
  ConnectionCallbackScope(const ConnectionCallbackScope&) = delete;
  ConnectionCallbackScope& operator=(const ConnectionCallbackScope&) = delete;

 private:
  const bool outer_;
};

void OnClosed(natsConnection*, void* closure) {
  auto* hub = static_cast<EventHub*>(closure);
  {
    ConnectionCallbackScope scope;
    hub->Emit({TransportEvent::Kind::kClosed, "", true, "connection closed"});
  }
  // Read on this thread after the listeners ran: one of them may have
  // destroyed the transport, which then left the hub to us.
  if (hub->delete_on_closed) {
    delete hub;
    return;
  }
  if (!hub->closed.HasBeenNotified()) hub->closed.Notify();
}

void OnDisconnected(natsConnection*, void* closure) {
  ConnectionCallbackScope scope;
  static_cast<EventHub*>(closure)->Emit(
      {TransportEvent::Kind::kDisconnected, "", true, "disconnected"});
}

void OnReconnected(natsConnection*, void* closure) {
  ConnectionCallbackScope scope;
  static_cast<EventHub*>(closure)->Emit(
      {TransportEvent::Kind::kReconnected, "", true, "reconnected"});
}

// The text of the error being reported to OnAsyncError. nats.c 3.4.1 posts
// an -ERR (a permission violation among them) with its own copy of the text,
// and its callback thread makes that copy this thread's last error
// (nats_GetLastError) just before it calls the handler. The connection's
// last error (natsConnection_GetLastError) is no substitute: the reading
// thread overwrites it with the next -ERR, often before the callback runs,
// and the first refused call would then be blamed on the second's subject.
// Errors posted without text (a slow consumer, say) leave nothing there;
// their status text names them.
std::string AsyncErrorText(natsStatus err) {
  natsStatus thread_status = NATS_OK;
  const char* text = nats_GetLastError(&thread_status);
  if (thread_status == err && text != nullptr && *text != '\0') return text;
  return natsStatus_GetText(err);
}

void OnAsyncError(natsConnection*, natsSubscription*, natsStatus err,
                  void* closure) {
  ConnectionCallbackScope scope;
  auto* hub = static_cast<EventHub*>(closure);
  TransportEvent event{TransportEvent::Kind::kError, "", true,
                       AsyncErrorText(err)};
  if (err == NATS_NOT_PERMITTED &&
      ParsePermissionViolation(event.message, event.subject, event.publish)) {
    event.kind = TransportEvent::Kind::kPermissionDenied;
  }
  hub->Emit(event);
}

class NatsTransport final : public Transport {
 public:
  NatsTransport(natsConnection* nc, std::unique_ptr<EventHub> hub,
                std::shared_ptr<EventLoop> loop, const TransportTuning& tuning,
                int max_pending_messages)
      : nc_(nc),
        hub_(std::move(hub)),
        loop_(std::move(loop)),
        tuning_(tuning),
        fast_path_(tuning.nats_internals && nats_internals::Available()),
        max_pending_messages_(max_pending_messages) {}

  ~NatsTransport() override {
    Close();
    if (tl_in_connection_callback) {
      // On nats.c's callback thread, which delivers the closed callback
      // only after the running one returns: waiting for it here would stall
      // every connection's callbacks (issue 11). nats.c posted it in
      // Close() (now, or earlier) with its own reference to the connection,
      // and nothing else runs on this thread meanwhile: the hub goes when
      // it ran, here or in OnClosed.
      hub_->Clear();
      if (hub_->closed.HasBeenNotified()) {
        hub_.reset();
      } else {
        hub_.release()->delete_on_closed = true;
      }
    } else if (!hub_->closed.WaitForNotificationWithTimeout(
                   absl::Seconds(10))) {
      // The closed callback is the last one nats.c delivers; once it ran
      // the hub may go. If it never comes (it should), leak the hub rather
      // than risk a callback into freed memory.
      hub_.release();
    }
    // nats.c's order: Close, stop the loop, Destroy. A close another thread
    // began (Connection::Close, or nats.c giving up reconnecting) may still
    // be under way although Close() returned: it detaches the loop last,
    // after it posted the closed callback.
    if (loop_ != nullptr) {
      if (!loop_->WaitDetached(absl::Seconds(10))) {
        // Never seen; leak the loop rather than free it under nats.c.
        new std::shared_ptr<EventLoop>(loop_);
      }
      loop_->Stop();
    }
    natsConnection_Destroy(nc_);
  }

  absl::Status Publish(const OutgoingMessage& m) override {
    EventLoop::WriteHere write_here(WriteNow(m) ? loop_.get() : nullptr);
    // nats.c wants NUL-terminated strings; reuse per-thread buffers.
    thread_local std::string subject;
    thread_local std::string reply;
    subject.assign(m.subject.data(), m.subject.size());
    reply.assign(m.reply.data(), m.reply.size());
    const char* reply_c = m.reply.empty() ? nullptr : reply.c_str();

    const bool has_headers =
        !m.headers.empty() || (m.metadata != nullptr && !m.metadata->empty());
    if (!has_headers) {
      if (static_cast<int64_t>(m.data.size()) > max_payload()) {
        return TooLarge(m.subject, m.data.size());
      }
      // PublishRequest refuses an empty reply subject.
      natsStatus s =
          reply_c == nullptr
              ? natsConnection_Publish(nc_, subject.c_str(), m.data.data(),
                                       static_cast<int>(m.data.size()))
              : natsConnection_PublishRequest(nc_, subject.c_str(), reply_c,
                                              m.data.data(),
                                              static_cast<int>(m.data.size()));
      if (s != NATS_OK) return PublishError(s, m.subject);
      return absl::OkStatus();
    }

    // "NATS/1.0\r\n" ... "\r\n", and "key: value\r\n" per header.
    size_t total = m.data.size() + 12;
    for (const HeaderRef& h : m.headers) {
      total += h.key.size() + h.value.size() + 4;
    }
    if (m.metadata != nullptr) {
      for (const auto& [k, v] : *m.metadata) total += k.size() + v.size() + 4;
    }
    if (static_cast<int64_t>(total) > max_payload()) {
      return TooLarge(m.subject, total);
    }

    if (fast_path_) return PublishEncoded(m, total);

    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), reply_c, m.data.data(),
                                  static_cast<int>(m.data.size()));
    if (s != NATS_OK) return PublishError(s, m.subject);
    std::string key;
    std::string value;
    auto add = [&](absl::string_view k, absl::string_view v) {
      key.assign(k.data(), k.size());
      value.assign(v.data(), v.size());
      if (s == NATS_OK) s = natsMsgHeader_Add(msg, key.c_str(), value.c_str());
    };
    for (const HeaderRef& h : m.headers) add(h.key, h.value);
    if (m.metadata != nullptr) {
      for (const auto& [k, v] : *m.metadata) add(k, v);
    }
    if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, msg);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) return PublishError(s, m.subject);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view subject, absl::string_view queue,
      MessageHandler handler) override;

  int64_t max_payload() const override {
    return natsConnection_GetMaxPayload(nc_);
  }

  bool connected() const override {
    return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
  }

  absl::Status Flush(absl::Duration timeout) override {
    const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
    const natsStatus s = natsConnection_FlushTimeout(nc_, ms);
    if (s == NATS_OK) return absl::OkStatus();
    if (s == NATS_TIMEOUT) {
      return absl::DeadlineExceededError(
          absl::StrCat("the NATS server did not confirm the flush within ",
                       absl::FormatDuration(timeout)));
    }
    if (s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED ||
        !connected()) {
      return absl::UnavailableError(
          absl::StrCat("cannot flush: not connected (", NatsText(s), ")"));
    }
    return absl::InternalError(absl::StrCat("cannot flush: ", NatsText(s)));
  }

  uint64_t AddEventListener(EventListener listener) override {
    return hub_->Add(std::move(listener));
  }
  void RemoveEventListener(uint64_t id) override { hub_->Remove(id); }

  absl::StatusOr<std::shared_ptr<JetStream>> OpenJetStream(
      const JetStreamOptions& options) override {
    return OpenNatsJetStream(nc_, options);
  }

  void Close() override {
    if (!closing_.exchange(true)) natsConnection_Close(nc_);
  }

 private:
  // What one subscribe round trip found.
  enum class Verdict { kOk, kRefused, kUnsure };

  // Whether to write `m` on this thread right after publishing it.
  bool WriteNow(const OutgoingMessage& m) const {
    if (loop_ == nullptr) return false;
    // A delivery-thread handler that may block waits for the reply to what
    // it publishes: never hold its output for the burst's end.
    if (tl_may_block > 0) return true;
    return tuning_.write_now && m.flush == FlushPolicy::kNow;
  }

  // Publishes `m`, which has headers, with a header block encoded here
  // (nats_internals.h): no hash table, no hop to nats.c's GC thread.
  // `total` is the size of header block and payload.
  absl::Status PublishEncoded(const OutgoingMessage& m, size_t total) {
    thread_local std::string buf;
    buf.clear();
    buf.reserve(total);
    AppendHeaderBlock(m, buf);
    const int header_len = static_cast<int>(buf.size());
    buf.append(m.data.data(), m.data.size());
    natsMsg* msg = nullptr;
    natsStatus s = nats_internals::CreateMessage(&msg, m.subject, m.reply, buf,
                                                 header_len);
    if (s != NATS_OK) return PublishError(s, m.subject);
    s = natsConnection_PublishMsg(nc_, msg);
    nats_internals::FreeMessage(msg);
    if (s != NATS_OK) return PublishError(s, m.subject);
    return absl::OkStatus();
  }

  // The connection's last error text ("" if none).
  std::string LastError() const {
    const char* text = nullptr;
    natsConnection_GetLastError(nc_, &text);
    return text == nullptr ? std::string() : std::string(text);
  }

  absl::Status TooLarge(absl::string_view subject, size_t size) const {
    return absl::ResourceExhaustedError(
        absl::StrCat("message to ", subject, " is ", size,
                     " bytes, more than the server's max_payload of ",
                     max_payload(), " bytes"));
  }

  natsConnection* nc_;
  std::unique_ptr<EventHub> hub_;
  // Shared with subscriptions, whose last callbacks may run after this
  // transport is gone.
  std::shared_ptr<EventLoop> loop_;
  const TransportTuning tuning_;
  const bool fast_path_;
  const int max_pending_messages_;
  std::atomic<bool> closing_{false};
};

// A subscription the server refuses still passes the flush: nats-server
// answers the SUB with an asynchronous
//   -ERR 'Permissions Violation for Subscription to "<subject>"'
// before the PONG of the flush. nats.c records it as the connection's last
// error while it reads (before the PONG ends the flush) and reports it to
// OnAsyncError later, on another thread. So after the flush the last error
// tells, unless a later -ERR replaced it; then the round trip is repeated.
// Permissions of a connection do not change while it lives, so a last error
// that names this subject is this subscription's refusal even if an earlier
// subscribe to the same subject caused it.
absl::StatusOr<std::unique_ptr<Subscription>> NatsTransport::Subscribe(
    absl::string_view subject, absl::string_view queue,
    MessageHandler handler) {
  const std::string subj(subject);
  const std::string q(queue);
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    const std::string error_before = LastError();
    auto* closure = new SubscriptionClosure(
        handler, tuning_.bursts ? loop_ : nullptr, fast_path_);
    natsSubscription* sub = nullptr;
    natsStatus s =
        q.empty()
            ? natsConnection_Subscribe(&sub, nc_, subj.c_str(),
                                       OnSubscriptionMessage, closure)
            : natsConnection_QueueSubscribe(&sub, nc_, subj.c_str(), q.c_str(),
                                            OnSubscriptionMessage, closure);
    if (s != NATS_OK) {
      delete closure;
      if (s == NATS_CONNECTION_CLOSED) {
        return absl::UnavailableError(absl::StrCat(
            "cannot subscribe to ", subject, ": connection closed"));
      }
      return absl::InternalError(
          absl::StrCat("cannot subscribe to ", subject, ": ", NatsText(s)));
    }
    s = natsSubscription_SetOnCompleteCB(sub, OnSubscriptionComplete, closure);
    auto owned = std::make_unique<NatsSubscription>(
        sub, s == NATS_OK ? closure : nullptr);
    if (s != NATS_OK) {
      // Without the callback nothing frees the closure; leak it rather than
      // free it under a handler that may still run.
      return absl::InternalError(absl::StrCat("cannot watch subscription to ",
                                              subject, ": ", NatsText(s)));
    }
    // Bound by message count only: the default 64 MB byte limit would drop
    // replies of large payloads at high concurrency.
    natsSubscription_SetPendingLimits(sub, max_pending_messages_, -1);
    // Round trip to the server so the subscription is in effect when this
    // returns: a service must answer as soon as AddService() is OK, also to
    // requests published on other connections.
    if (natsStatus f = natsConnection_FlushTimeout(nc_, 10000); f != NATS_OK) {
      return absl::UnavailableError(absl::StrCat(
          "subscribed to ", subject,
          " but the NATS server did not confirm it: ", NatsText(f)));
    }
    const std::string error_after = LastError();
    std::string refused;
    bool publish = true;
    if (ParsePermissionViolation(error_after, refused, publish) && !publish &&
        refused == subj) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the NATS server refused the subscription to ", subject,
          " (permissions of this connection's user): ", error_after));
    }
    // No new error, or one that cannot hide ours after `kAttempts` tries.
    if (error_after == error_before || attempt == kAttempts) {
      return std::unique_ptr<Subscription>(std::move(owned));
    }
    // Another error arrived during the round trip and may have replaced
    // ours: unsubscribe (`owned`) and try again.
  }
}

}  // namespace

std::string NatsText(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && text != last) {
    absl::StrAppend(&text, ": ", last);
  }
  return text;
}

bool ParsePermissionViolation(absl::string_view text, std::string& subject,
                              bool& publish) {
  constexpr absl::string_view kPublish =
      "Permissions Violation for Publish to ";
  constexpr absl::string_view kSubscribe =
      "Permissions Violation for Subscription to ";
  size_t pos = text.find(kPublish);
  publish = pos != absl::string_view::npos;
  if (publish) {
    text.remove_prefix(pos + kPublish.size());
  } else {
    pos = text.find(kSubscribe);
    if (pos == absl::string_view::npos) return false;
    text.remove_prefix(pos + kSubscribe.size());
  }
  text = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&text, "\"");
  const size_t end = text.find_first_of("\"' ");
  subject = std::string(text.substr(0, end));
  return !subject.empty();
}

absl::StatusOr<std::shared_ptr<Transport>> StartNatsTransport(
    natsOptions* opts, const TransportTuning& tuning, int max_pending_messages,
    absl::string_view where) {
  // Without the event loop: plain SendAsap, one send() per publish.
  std::unique_ptr<EventLoop> loop;
  if (tuning.event_loop) {
    absl::StatusOr<std::unique_ptr<EventLoop>> started = EventLoop::Start();
    if (!started.ok()) return started.status();
    loop = *std::move(started);
    if (natsStatus s = loop->Install(opts); s != NATS_OK) {
      return absl::InternalError(
          absl::StrCat("natsOptions_SetEventLoop: ", NatsText(s)));
    }
  }

  auto hub = std::make_unique<EventHub>();
  EventHub* h = hub.get();
  natsOptions_SetClosedCB(opts, OnClosed, h);
  natsOptions_SetDisconnectedCB(opts, OnDisconnected, h);
  natsOptions_SetReconnectedCB(opts, OnReconnected, h);
  natsOptions_SetErrorHandler(opts, OnAsyncError, h);

  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  if (s != NATS_OK) {
    const std::string text = NatsText(s);
    if (loop != nullptr) loop->Stop();
    natsConnection_Destroy(nc);
    if (s == NATS_CONNECTION_AUTH_FAILED) {
      return absl::UnauthenticatedError(
          absl::StrCat("NATS at ", where, " refused the credentials: ", text));
    }
    if (s == NATS_SSL_ERROR) {
      return absl::UnavailableError(
          absl::StrCat("TLS to NATS at ", where, " failed: ", text));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot connect to NATS at ", where, ": ", text));
  }
  return std::shared_ptr<Transport>(std::make_shared<NatsTransport>(
      nc, std::move(hub), std::move(loop), tuning, max_pending_messages));
}

}  // namespace natsrpc::internal
