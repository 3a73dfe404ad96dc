// Copyright 2026 The natsrpc Authors.

#include "in_memory_transport.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace natsrpc::testing {
namespace {

class Message final : public IncomingMessage {
 public:
  Message(InMemoryTransport::Sent sent, bool no_responders,
          std::shared_ptr<const InMemoryTransport::MessageHook> on_destroyed)
      : sent_(std::move(sent)),
        no_responders_(no_responders),
        on_destroyed_(std::move(on_destroyed)) {}
  ~Message() override {
    if (on_destroyed_ != nullptr && *on_destroyed_)
      (*on_destroyed_)(sent_.subject);
  }
  absl::string_view subject() const override { return sent_.subject; }
  absl::string_view reply() const override { return sent_.reply; }
  absl::string_view data() const override { return sent_.data; }
  std::optional<absl::string_view> header(
      absl::string_view key) const override {
    for (const auto& [k, v] : sent_.headers) {
      if (k == key) return absl::string_view(v);
    }
    return std::nullopt;
  }
  Metadata headers() const override { return sent_.headers; }
  bool is_no_responders() const override { return no_responders_; }

 private:
  InMemoryTransport::Sent sent_;
  bool no_responders_;
  std::shared_ptr<const InMemoryTransport::MessageHook> on_destroyed_;
};

// The transport whose burst runs on this thread, if any (see
// in_memory_transport.h).
thread_local const InMemoryTransport* tl_burst = nullptr;
// How many handlers on this thread's stack may block (SetMayBlock).
thread_local int tl_blocking = 0;

class DeliveryImpl final : public Delivery {
 public:
  explicit DeliveryImpl(int64_t pending_after)
      : pending_after_(pending_after) {}
  ~DeliveryImpl() override { SetMayBlock(false); }
  int64_t pending_after() const override { return pending_after_; }
  void SetMayBlock(bool may_block) override {
    if (may_block != blocking_) tl_blocking += may_block ? 1 : -1;
    blocking_ = may_block;
  }

 private:
  const int64_t pending_after_;
  bool blocking_ = false;
};

}  // namespace

class InMemoryTransport::SubHandle final : public Subscription {
 public:
  SubHandle(InMemoryTransport* t, uint64_t id) : t_(t), id_(id) {}
  ~SubHandle() override { t_->Unsubscribe(id_); }

 private:
  InMemoryTransport* t_;
  uint64_t id_;
};

bool InMemoryTransport::SubjectMatches(absl::string_view pattern,
                                       absl::string_view subject) {
  std::vector<absl::string_view> p = absl::StrSplit(pattern, '.');
  std::vector<absl::string_view> s = absl::StrSplit(subject, '.');
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return s.size() > i;
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

absl::Status InMemoryTransport::Publish(const OutgoingMessage& m) {
  if (!connected()) return absl::UnavailableError("not connected");
  Sent sent{
      std::string(m.subject), std::string(m.reply), {}, std::string(m.data)};
  for (const HeaderRef& h : m.headers) {
    sent.headers.emplace_back(std::string(h.key), std::string(h.value));
  }
  if (m.metadata != nullptr) {
    sent.headers.insert(sent.headers.end(), m.metadata->begin(),
                        m.metadata->end());
  }
  if (static_cast<int64_t>(sent.data.size()) > max_payload_) {
    return absl::ResourceExhaustedError("max payload");
  }
  {
    absl::MutexLock lock(&mu_);
    buffer_.push_back(std::move(sent));
  }
  // Held in the buffer until the end of this thread's burst.
  if (tl_burst == this && m.flush == FlushPolicy::kBatch && tl_blocking == 0) {
    return absl::OkStatus();
  }
  Flush();
  return absl::OkStatus();
}

void InMemoryTransport::Flush() {
  std::deque<Sent> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(buffer_);
    sent_.insert(sent_.end(), batch.begin(), batch.end());
  }
  for (Sent& m : batch) Deliver(std::move(m));
}

void InMemoryTransport::Inject(Sent message) { Deliver(std::move(message)); }

void InMemoryTransport::RunBurst(const std::function<void()>& deliver) {
  if (tl_burst == this) {
    deliver();  // part of the burst already running on this thread
    return;
  }
  const InMemoryTransport* const outer = tl_burst;
  tl_burst = this;
  deliver();
  tl_burst = outer;
  Flush();  // the end of the burst
}

void InMemoryTransport::DeliverTo(
    const std::vector<std::shared_ptr<Sub>>& targets,
    const MessagePtr& message) {
  {
    absl::MutexLock lock(&mu_);
    if (paused_) {
      for (const auto& sub : targets) queued_.push_back({sub, message});
      return;
    }
  }
  RunBurst([&] {
    for (const auto& sub : targets) {
      DeliveryImpl delivery(0);
      sub->handler(message, delivery);
    }
  });
}

void InMemoryTransport::PauseDelivery() {
  absl::MutexLock lock(&mu_);
  paused_ = true;
}

void InMemoryTransport::ResumeDelivery() {
  {
    absl::MutexLock lock(&mu_);
    paused_ = false;
  }
  RunBurst([&] {
    while (true) {
      Queued next;
      int64_t behind = 0;
      {
        absl::MutexLock lock(&mu_);
        if (queued_.empty()) return;
        next = std::move(queued_.front());
        queued_.pop_front();
        // As with NATS: nothing more is delivered after an unsubscribe.
        if (std::find(subs_.begin(), subs_.end(), next.sub) == subs_.end()) {
          continue;
        }
        for (const Queued& q : queued_) behind += q.sub == next.sub ? 1 : 0;
      }
      DeliveryImpl delivery(behind);
      next.sub->handler(next.message, delivery);
    }
  });
}

void InMemoryTransport::Deliver(Sent message) {
  std::vector<std::shared_ptr<Sub>> targets;
  std::shared_ptr<const MessageHook> on_destroyed;
  {
    absl::MutexLock lock(&mu_);
    on_destroyed = on_message_destroyed_;
    std::vector<std::string> queues_seen;
    for (const auto& sub : subs_) {
      if (!SubjectMatches(sub->subject, message.subject)) continue;
      if (!sub->queue.empty()) {
        if (std::find(queues_seen.begin(), queues_seen.end(), sub->queue) !=
            queues_seen.end()) {
          continue;
        }
        queues_seen.push_back(sub->queue);
      }
      targets.push_back(sub);
    }
  }
  if (targets.empty()) {
    if (!message.reply.empty()) {
      Sent status{message.reply, "", {{"Status", "503"}}, ""};
      Deliver503(std::move(status));
    }
    return;
  }
  DeliverTo(targets,
            std::make_shared<Message>(std::move(message), false, on_destroyed));
}

void InMemoryTransport::Deliver503(Sent status) {
  std::vector<std::shared_ptr<Sub>> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& sub : subs_) {
      if (SubjectMatches(sub->subject, status.subject)) targets.push_back(sub);
    }
  }
  DeliverTo(targets, std::make_shared<Message>(std::move(status), true, nullptr));
}

absl::StatusOr<std::unique_ptr<Subscription>> InMemoryTransport::Subscribe(
    absl::string_view subject, absl::string_view queue,
    MessageHandler handler) {
  bool denied;
  {
    absl::MutexLock lock(&mu_);
    denied = std::find(denied_subscribes_.begin(), denied_subscribes_.end(),
                       subject) != denied_subscribes_.end();
  }
  if (denied) {
    const std::string text = absl::StrCat(
        "Permissions Violation for Subscription to \"", subject, "\"");
    Emit({TransportEvent::Kind::kPermissionDenied, std::string(subject), false,
          text});
    return absl::PermissionDeniedError(absl::StrCat(
        "the NATS server refused the subscription to ", subject, ": ", text));
  }
  absl::MutexLock lock(&mu_);
  if (subscribe_hook_) {
    if (absl::Status s = subscribe_hook_(subject); !s.ok()) return s;
  }
  if (keep_handlers_) kept_.emplace_back(std::string(subject), handler);
  const uint64_t id = ++next_id_;
  subs_.push_back(std::make_shared<Sub>(
      Sub{id, std::string(subject), std::string(queue), std::move(handler)}));
  return std::unique_ptr<Subscription>(std::make_unique<SubHandle>(this, id));
}

void InMemoryTransport::DenySubscribe(std::string subject) {
  absl::MutexLock lock(&mu_);
  denied_subscribes_.push_back(std::move(subject));
}

void InMemoryTransport::Unsubscribe(uint64_t id) {
  absl::MutexLock lock(&mu_);
  std::erase_if(subs_, [id](const auto& s) { return s->id == id; });
}

bool InMemoryTransport::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

void InMemoryTransport::set_connected(bool connected) {
  absl::MutexLock lock(&mu_);
  connected_ = connected;
}

uint64_t InMemoryTransport::AddEventListener(EventListener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.emplace_back(++next_id_, std::move(listener));
  return next_id_;
}

void InMemoryTransport::RemoveEventListener(uint64_t id) {
  absl::MutexLock lock(&mu_);
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void InMemoryTransport::Emit(const TransportEvent& event) {
  std::vector<EventListener> copy;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& l : listeners_) copy.push_back(l.second);
  }
  for (auto& l : copy) l(event);
}

void InMemoryTransport::Close() {
  set_connected(false);
  Emit({TransportEvent::Kind::kClosed, "", true, "closed"});
}

void InMemoryTransport::set_subscribe_hook(SubscribeHook hook) {
  absl::MutexLock lock(&mu_);
  subscribe_hook_ = std::move(hook);
}

size_t InMemoryTransport::subscription_count() const {
  absl::MutexLock lock(&mu_);
  return subs_.size();
}

void InMemoryTransport::set_keep_handlers(bool keep) {
  absl::MutexLock lock(&mu_);
  keep_handlers_ = keep;
}

std::vector<std::pair<std::string, Transport::MessageHandler>>
InMemoryTransport::kept_handlers() const {
  absl::MutexLock lock(&mu_);
  return kept_;
}

void InMemoryTransport::set_on_message_destroyed(MessageHook hook) {
  absl::MutexLock lock(&mu_);
  on_message_destroyed_ = std::make_shared<const MessageHook>(std::move(hook));
}

MessagePtr InMemoryTransport::MakeMessage(Sent message) const {
  absl::MutexLock lock(&mu_);
  return std::make_shared<Message>(std::move(message), false,
                                   on_message_destroyed_);
}

std::vector<InMemoryTransport::Sent> InMemoryTransport::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}

}  // namespace natsrpc::testing
