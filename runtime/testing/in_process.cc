// Copyright 2026 The natsrpc Authors.

#include "natsrpc/testing/in_process.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace natsrpc::testing {
namespace {

class Message final : public IncomingMessage {
 public:
  Message(std::string subject, std::string reply, Metadata headers,
          std::string data, bool no_responders)
      : subject_(std::move(subject)),
        reply_(std::move(reply)),
        headers_(std::move(headers)),
        data_(std::move(data)),
        no_responders_(no_responders) {}

  absl::string_view subject() const override { return subject_; }
  absl::string_view reply() const override { return reply_; }
  absl::string_view data() const override { return data_; }
  std::optional<absl::string_view> header(
      absl::string_view key) const override {
    for (const auto& [k, v] : headers_) {
      if (k == key) return absl::string_view(v);
    }
    return std::nullopt;
  }
  Metadata headers() const override { return headers_; }
  bool is_no_responders() const override { return no_responders_; }

 private:
  const std::string subject_;
  const std::string reply_;
  const Metadata headers_;
  const std::string data_;
  const bool no_responders_;
};

class DeliveryImpl final : public Delivery {
 public:
  explicit DeliveryImpl(int64_t pending_after)
      : pending_after_(pending_after) {}
  int64_t pending_after() const override { return pending_after_; }
  // Nothing is ever held back (see in_process.h), so nothing changes.
  void SetMayBlock(bool) override {}

 private:
  const int64_t pending_after_;
};

}  // namespace

// One subscription: its queue and its delivery thread, which owns a
// reference and ends when the subscription is closed.
struct InProcessTransport::Sub {
  uint64_t id = 0;
  std::string subject;
  std::string queue;
  MessageHandler handler;

  absl::Mutex mu;
  std::deque<MessagePtr> pending ABSL_GUARDED_BY(mu);
  bool closed ABSL_GUARDED_BY(mu) = false;

  void Push(MessagePtr message) {
    absl::MutexLock lock(&mu);
    if (!closed) pending.push_back(std::move(message));
  }
  void Close() {
    absl::MutexLock lock(&mu);
    closed = true;
    pending.clear();
  }
  // The delivery thread.
  static void Run(std::shared_ptr<Sub> self) {
    while (true) {
      MessagePtr message;
      int64_t behind = 0;
      {
        absl::MutexLock lock(&self->mu);
        self->mu.Await(absl::Condition(
            +[](Sub* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
              return s->closed || !s->pending.empty();
            },
            self.get()));
        if (self->closed) return;
        message = std::move(self->pending.front());
        self->pending.pop_front();
        behind = static_cast<int64_t>(self->pending.size());
      }
      DeliveryImpl delivery(behind);
      self->handler(std::move(message), delivery);
    }
  }
};

class InProcessTransport::SubHandle final : public Subscription {
 public:
  SubHandle(InProcessTransport* transport, std::shared_ptr<Sub> sub)
      : transport_(transport), sub_(std::move(sub)) {}
  ~SubHandle() override { transport_->Unsubscribe(sub_); }

 private:
  InProcessTransport* const transport_;
  const std::shared_ptr<Sub> sub_;
};

InProcessTransport::InProcessTransport(int64_t max_payload)
    : max_payload_(max_payload) {}

InProcessTransport::~InProcessTransport() {
  std::vector<std::shared_ptr<Sub>> subs;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    subs.swap(subs_);
  }
  for (const auto& sub : subs) sub->Close();
}

bool InProcessTransport::SubjectMatches(absl::string_view pattern,
                                        absl::string_view subject) {
  const std::vector<absl::string_view> p = absl::StrSplit(pattern, '.');
  const std::vector<absl::string_view> s = absl::StrSplit(subject, '.');
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return s.size() > i;
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

absl::Status InProcessTransport::Publish(const OutgoingMessage& m) {
  Metadata headers;
  int64_t size = static_cast<int64_t>(m.data.size());
  for (const HeaderRef& h : m.headers) {
    headers.emplace_back(std::string(h.key), std::string(h.value));
  }
  if (m.metadata != nullptr) {
    headers.insert(headers.end(), m.metadata->begin(), m.metadata->end());
  }
  for (const auto& [k, v] : headers) {
    size += static_cast<int64_t>(k.size() + v.size() + 4);  // "k: v\r\n"
  }
  if (size > max_payload_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("message of ", size, " bytes on ", m.subject,
                     " exceeds the maximum payload of ", max_payload_));
  }

  std::vector<std::shared_ptr<Sub>> targets;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("the connection is closed");
    // Plain subscribers all get it; each queue group one member, in turn.
    std::vector<std::pair<std::string, std::vector<std::shared_ptr<Sub>>>>
        groups;
    for (const auto& sub : subs_) {
      if (!SubjectMatches(sub->subject, m.subject)) continue;
      if (sub->queue.empty()) {
        targets.push_back(sub);
        continue;
      }
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
        return g.first == sub->queue;
      });
      if (it == groups.end()) {
        groups.emplace_back(sub->queue, std::vector<std::shared_ptr<Sub>>{sub});
      } else {
        it->second.push_back(sub);
      }
    }
    for (const auto& [name, members] : groups) {
      targets.push_back(members[turn_++ % members.size()]);
    }
    if (targets.empty() && !m.reply.empty()) {
      // NATS answers a request nobody subscribes to with a status 503.
      for (const auto& sub : subs_) {
        if (SubjectMatches(sub->subject, m.reply)) targets.push_back(sub);
      }
      auto status = std::make_shared<Message>(std::string(m.reply), "",
                                              Metadata{{"Status", "503"}}, "",
                                              /*no_responders=*/true);
      for (const auto& sub : targets) sub->Push(status);
      return absl::OkStatus();
    }
  }
  if (targets.empty()) return absl::OkStatus();
  auto message = std::make_shared<Message>(
      std::string(m.subject), std::string(m.reply), std::move(headers),
      std::string(m.data), /*no_responders=*/false);
  for (const auto& sub : targets) sub->Push(message);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Subscription>> InProcessTransport::Subscribe(
    absl::string_view subject, absl::string_view queue,
    MessageHandler handler) {
  if (subject.empty() || !handler) {
    return absl::InvalidArgumentError(
        "Subscribe needs a subject and a handler");
  }
  auto sub = std::make_shared<Sub>();
  sub->subject = std::string(subject);
  sub->queue = std::string(queue);
  sub->handler = std::move(handler);
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("the connection is closed");
    sub->id = ++next_id_;
    subs_.push_back(sub);
  }
  // Detached: a handler may unsubscribe itself, and a handler that already
  // started may finish after the unsubscribe (natsrpc/transport.h).
  std::thread(&Sub::Run, sub).detach();
  return std::unique_ptr<Subscription>(
      std::make_unique<SubHandle>(this, std::move(sub)));
}

void InProcessTransport::Unsubscribe(const std::shared_ptr<Sub>& sub) {
  {
    absl::MutexLock lock(&mu_);
    std::erase(subs_, sub);
  }
  sub->Close();
}

bool InProcessTransport::connected() const {
  absl::MutexLock lock(&mu_);
  return !closed_;
}

uint64_t InProcessTransport::AddEventListener(EventListener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.emplace_back(++next_id_, std::move(listener));
  return next_id_;
}

void InProcessTransport::RemoveEventListener(uint64_t id) {
  absl::MutexLock lock(&mu_);
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void InProcessTransport::Emit(const TransportEvent& event) {
  std::vector<EventListener> copy;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& l : listeners_) copy.push_back(l.second);
  }
  for (auto& l : copy) l(event);
}

void InProcessTransport::Close() {
  std::vector<std::shared_ptr<Sub>> subs;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    subs = subs_;
  }
  for (const auto& sub : subs) sub->Close();
  Emit({TransportEvent::Kind::kClosed, "", true, "closed"});
}

InProcessChannel::InProcessChannel(int64_t max_payload)
    : transport_(std::make_shared<InProcessTransport>(max_payload)),
      connection_(transport_) {}

InProcessChannel::~InProcessChannel() = default;

}  // namespace natsrpc::testing
