// Copyright 2026 The natsrpc Authors.

#include "nats/nats_transport.h"

#include <dlfcn.h>
#include <nats/nats.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "nats/event_loop.h"
#include "server/handler_scope.h"

namespace natsrpc::internal {


namespace {

// Upper bound nats.c's int arithmetic tolerates (PLATFORM.md).
constexpr int kMaxPendingMessagesLimit = 2097152;

std::string NatsText(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && text != last) {
    absl::StrAppend(&text, ": ", last);
  }
  return text;
}

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

// Two nats.c 3.x functions on the hot path that nats.c exports but does not
// declare in its public headers. Profiles of natsrpc against raw nats.c
// showed two of the largest extra costs (docs/benchmarks.md, "Runtime changes
// and their effect"):
//   - natsMsgHeader_Add builds a hash table per published message (several
//     mallocs per header), which natsConnection_PublishMsg then encodes;
//   - natsMsg_Destroy hands every message to nats.c's garbage-collector
//     thread: a mutex all threads share, and often a futex wake-up.
// nats.c builds a received message from its wire bytes with
//   natsStatus natsMsg_create(natsMsg**, const char* subj, int subj_len,
//                             const char* reply, int reply_len,
//                             const char* buf, int buf_len, int hdr_len);
// and such a message is published with its header block as is (nats.c's own
// path for re-publishing a received message), so we encode the header block
// ourselves; and it frees a message with `void natsMsg_free(void*)`. Both
// signatures are the same in every nats.c release from 3.0 to 3.13. They are
// looked up at run time and used only with nats.c 3.x; otherwise (or if a
// lookup fails) the public API is used.
struct NatsInternals {
  using CreateFn = natsStatus (*)(natsMsg**, const char*, int, const char*, int,
                                  const char*, int, int);
  using FreeFn = void (*)(void*);
  CreateFn create = nullptr;
  FreeFn free = nullptr;

  bool available() const { return create != nullptr && free != nullptr; }
};

const NatsInternals& Internals() {
  static const NatsInternals internals = [] {
    NatsInternals in;
    const uint32_t version = nats_GetVersionNumber();
    const char* env = std::getenv("NATSRPC_NATS_INTERNALS");  // A/B only
    if ((version >> 16) != 3 ||
        (env != nullptr && std::string_view(env) == "0")) {
      return in;
    }
    in.create = reinterpret_cast<NatsInternals::CreateFn>(
        dlsym(RTLD_DEFAULT, "natsMsg_create"));
    in.free = reinterpret_cast<NatsInternals::FreeFn>(
        dlsym(RTLD_DEFAULT, "natsMsg_free"));
    if (!in.available()) in = NatsInternals();
    return in;
  }();
  return internals;
}

void FreeMessage(natsMsg* msg) {
  const NatsInternals& in = Internals();
  if (in.available()) {
    in.free(msg);  // at once, without the hop to nats.c's GC thread
  } else {
    natsMsg_Destroy(msg);
  }
}

constexpr absl::string_view kHeaderLine = "NATS/1.0";

bool IsHeaderSpace(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' ||
         c == '\n';
}

absl::string_view TrimHeaderSpace(absl::string_view s) {
  while (!s.empty() && IsHeaderSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsHeaderSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The headers of a received message, read from its header block instead of
// through nats.c's natsMsgHeader_* functions (which build a hash table per
// message). nats.c keeps a received message in one allocation: subject, NUL,
// reply, NUL (if any), header block, NUL (if any), payload. The block is only
// trusted if the bytes around it check out; anything unusual (a layout we do
// not recognize, folded lines) leaves `parsed` false and the public API does
// the work. Values are trimmed as nats.c trims them; an inline status
// ("NATS/1.0 503") appears as headers Status and Description, as in nats.c.
struct ParsedHeaders {
  bool parsed = false;
  absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 4>
      entries;
};

bool ParseHeaderBlock(absl::string_view block, ParsedHeaders& out) {
  if (block.size() < kHeaderLine.size() + 4 ||
      !absl::StartsWith(block, kHeaderLine) ||
      !absl::EndsWith(block, "\r\n\r\n")) {
    return false;
  }
  block.remove_suffix(2);  // the empty line; every line now ends in \r\n
  size_t eol = block.find("\r\n");
  absl::string_view status = TrimHeaderSpace(
      block.substr(kHeaderLine.size(), eol - kHeaderLine.size()));
  if (!status.empty()) {
    constexpr size_t kStatusLen = 3;
    out.entries.emplace_back("Status", status.substr(0, kStatusLen));
    if (status.size() > kStatusLen) {
      absl::string_view desc = TrimHeaderSpace(status.substr(kStatusLen));
      if (!desc.empty()) out.entries.emplace_back("Description", desc);
    }
  }
  size_t pos = eol + 2;
  while (pos < block.size()) {
    eol = block.find("\r\n", pos);
    const absl::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    // A folded line continues the previous value: leave it to nats.c.
    if (line.empty() || IsHeaderSpace(line.front())) return false;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return false;
    const absl::string_view value = TrimHeaderSpace(line.substr(colon + 1));
    if (value.empty()) return false;  // nats.c rejects the whole block
    out.entries.emplace_back(line.substr(0, colon), value);
  }
  out.parsed = true;
  return true;
}

ParsedHeaders ReadHeaders(natsMsg* msg) {
  ParsedHeaders out;
  if (!Internals().available()) return out;  // layout verified for 3.x only
  const char* data = natsMsg_GetData(msg);
  const char* reply = natsMsg_GetReply(msg);
  const char* last = reply != nullptr ? reply : natsMsg_GetSubject(msg);
  if (data == nullptr || last == nullptr) return out;
  const char* start = last + std::strlen(last) + 1;
  if (start == data) {  // no header block
    out.parsed = true;
    return out;
  }
  if (start > data || data[-1] != '\0') return out;
  ParseHeaderBlock(
      absl::string_view(start, static_cast<size_t>(data - 1 - start)), out);
  if (!out.parsed) out.entries.clear();
  return out;
}

class NatsMessage final : public IncomingMessage {
 public:
  NatsMessage(natsMsg* msg, natsSubscription* sub)
      : msg_(msg), sub_(sub), parsed_(ReadHeaders(msg)) {}
  ~NatsMessage() override { FreeMessage(msg_); }
  NatsMessage(const NatsMessage&) = delete;
  NatsMessage& operator=(const NatsMessage&) = delete;

  absl::string_view subject() const override {
    return natsMsg_GetSubject(msg_);
  }
  absl::string_view reply() const override {
    const char* r = natsMsg_GetReply(msg_);
    return r == nullptr ? absl::string_view() : absl::string_view(r);
  }
  absl::string_view data() const override {
    const char* d = natsMsg_GetData(msg_);
    return d == nullptr ? absl::string_view()
                        : absl::string_view(d, natsMsg_GetDataLength(msg_));
  }
  std::optional<absl::string_view> header(
      absl::string_view key) const override {
    if (parsed_.parsed) {
      for (const auto& [k, v] : parsed_.entries) {
        if (k == key) return v;
      }
      return std::nullopt;
    }
    char buf[128];
    std::string long_key;
    const char* k;
    if (key.size() < sizeof(buf)) {
      std::memcpy(buf, key.data(), key.size());
      buf[key.size()] = '\0';
      k = buf;
    } else {
      long_key = std::string(key);
      k = long_key.c_str();
    }
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg_, k, &value) != NATS_OK || value == nullptr) {
      return std::nullopt;
    }
    return absl::string_view(value);
  }
  Metadata headers() const override {
    Metadata out;
    if (parsed_.parsed) {
      for (const auto& [k, v] : parsed_.entries) out.emplace_back(k, v);
      return out;
    }
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg_, &keys, &count) != NATS_OK) return out;
    for (int i = 0; i < count; ++i) {
      const char** values = nullptr;
      int n = 0;
      if (natsMsgHeader_Values(msg_, keys[i], &values, &n) == NATS_OK) {
        for (int j = 0; j < n; ++j) out.emplace_back(keys[i], values[j]);
        free(values);
      }
    }
    free(keys);
    return out;
  }
  bool is_no_responders() const override {
    if (parsed_.parsed) {
      if (natsMsg_GetDataLength(msg_) != 0) return false;
      std::optional<absl::string_view> status = header("Status");
      return status.has_value() && absl::StartsWith(*status, "503");
    }
    return natsMsg_IsNoResponders(msg_);
  }
  int64_t pending_after() const override {
    int msgs = 0;
    // nats.c keeps the subscription alive while its handler runs.
    if (natsSubscription_GetPending(sub_, &msgs, nullptr) != NATS_OK) return 0;
    return msgs;
  }

 private:
  natsMsg* msg_;
  natsSubscription* sub_;  // valid while the handler of this message runs
  // Headers read from the message's header block; not `parsed` if nats.c's
  // functions must be asked instead.
  const ParsedHeaders parsed_;
};

// Heap state a nats.c subscription points at; freed by nats.c's on-complete
// callback once no handler can run any more.
struct SubscriptionClosure {
  Transport::MessageHandler handler;
  std::shared_ptr<EventLoop> loop;  // may be null
};

// NATSRPC_BURST=0 lets the loop thread write everything; for A/B
// measurements only.
bool BurstsEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("NATSRPC_BURST");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return enabled;
}

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
// they publish themselves is written at once, see HandlerScope).
void OnSubscriptionMessage(natsConnection*, natsSubscription* sub,
                           natsMsg* msg, void* closure) {
  auto* c = static_cast<SubscriptionClosure*>(closure);
  EventLoop* loop = BurstsEnabled() ? c->loop.get() : nullptr;
  thread_local int burst_messages = 0;
  thread_local absl::Time burst_start;
  if (loop != nullptr && !loop->InBurst()) {
    loop->BeginBurst();
    burst_messages = 0;
    burst_start = absl::Now();
  }
  c->handler(std::make_shared<NatsMessage>(msg, sub));
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
  delete c;
}

class NatsSubscription final : public Subscription {
 public:
  explicit NatsSubscription(natsSubscription* sub) : sub_(sub) {}
  ~NatsSubscription() override {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }

 private:
  natsSubscription* sub_;
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

  absl::Notification closed;

 private:
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<uint64_t, Transport::EventListener>> listeners_
      ABSL_GUARDED_BY(mu_);
};

// "Permissions Violation for Publish to "requests.a.b"" → subject, publish.
bool ParsePermissionViolation(absl::string_view text, std::string& subject,
                              bool& publish) {
  constexpr absl::string_view kPublish = "Permissions Violation for Publish to ";
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

void OnClosed(natsConnection*, void* closure) {
  auto* hub = static_cast<EventHub*>(closure);
  hub->Emit({TransportEvent::Kind::kClosed, "", true, "connection closed"});
  if (!hub->closed.HasBeenNotified()) hub->closed.Notify();
}

void OnDisconnected(natsConnection*, void* closure) {
  static_cast<EventHub*>(closure)->Emit(
      {TransportEvent::Kind::kDisconnected, "", true, "disconnected"});
}

void OnReconnected(natsConnection*, void* closure) {
  static_cast<EventHub*>(closure)->Emit(
      {TransportEvent::Kind::kReconnected, "", true, "reconnected"});
}

void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus err,
                  void* closure) {
  auto* hub = static_cast<EventHub*>(closure);
  const char* text = nullptr;
  natsConnection_GetLastError(nc, &text);
  TransportEvent event{TransportEvent::Kind::kError, "", true,
                       text != nullptr ? text : natsStatus_GetText(err)};
  if (err == NATS_NOT_PERMITTED &&
      ParsePermissionViolation(event.message, event.subject, event.publish)) {
    event.kind = TransportEvent::Kind::kPermissionDenied;
  }
  hub->Emit(event);
}

class NatsTransport final : public Transport {
 public:
  NatsTransport(natsConnection* nc, std::unique_ptr<EventHub> hub,
                std::shared_ptr<EventLoop> loop, int max_pending_messages)
      : nc_(nc),
        hub_(std::move(hub)),
        loop_(std::move(loop)),
        max_pending_messages_(max_pending_messages) {}

  ~NatsTransport() override {
    Close();
    // The closed callback is the last one nats.c delivers; once it ran the
    // hub may go. If it never comes (it should), leak the hub rather than
    // risk a callback into freed memory.
    if (!hub_->closed.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      hub_.release();
    }
    // nats.c's order: Close, stop the loop, Destroy.
    if (loop_ != nullptr) loop_->Stop();
    natsConnection_Destroy(nc_);
  }

  absl::Status Publish(const OutgoingMessage& m) override {
    // A server handler on a delivery thread may block until the reply to
    // what it publishes arrives: never hold its output for the burst's end.
    EventLoop::WriteHere write_here(
        WriteNow(m) || HandlerScope::active() ? loop_.get() : nullptr);
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
    for (const HeaderRef& h : m.headers) total += h.key.size() + h.value.size() + 4;
    if (m.metadata != nullptr) {
      for (const auto& [k, v] : *m.metadata) total += k.size() + v.size() + 4;
    }
    if (static_cast<int64_t>(total) > max_payload()) {
      return TooLarge(m.subject, total);
    }

    if (Internals().available()) return PublishEncoded(m, total);

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

  // Publishes `m`, which has headers, with a header block encoded here
  // (see NatsInternals): no hash table, no hop to nats.c's GC thread.
  // `total` is the size of header block and payload.
  absl::Status PublishEncoded(const OutgoingMessage& m, size_t total) {
    thread_local std::string buf;
    buf.clear();
    buf.reserve(total);
    buf.append(kHeaderLine.data(), kHeaderLine.size());
    buf.append("\r\n");
    auto add = [](absl::string_view k, absl::string_view v) {
      buf.append(k.data(), k.size());
      buf.append(": ");
      const size_t at = buf.size();
      buf.append(v.data(), v.size());
      // As nats.c encodes values: a line break would end the header.
      for (size_t i = at; i < buf.size(); ++i) {
        if (buf[i] == '\r' || buf[i] == '\n') buf[i] = ' ';
      }
      buf.append("\r\n");
    };
    for (const HeaderRef& h : m.headers) add(h.key, h.value);
    if (m.metadata != nullptr) {
      for (const auto& [k, v] : *m.metadata) add(k, v);
    }
    buf.append("\r\n");
    const int header_len = static_cast<int>(buf.size());
    buf.append(m.data.data(), m.data.size());

    const NatsInternals& in = Internals();
    natsMsg* msg = nullptr;
    natsStatus s =
        in.create(&msg, m.subject.data(), static_cast<int>(m.subject.size()),
                  m.reply.data(), static_cast<int>(m.reply.size()), buf.data(),
                  static_cast<int>(buf.size()), header_len);
    if (s != NATS_OK) return PublishError(s, m.subject);
    s = natsConnection_PublishMsg(nc_, msg);
    in.free(msg);
    if (s != NATS_OK) return PublishError(s, m.subject);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view subject, absl::string_view queue,
      MessageHandler handler) override {
    auto* closure = new SubscriptionClosure{std::move(handler), loop_};
    natsSubscription* sub = nullptr;
    const std::string subj(subject);
    const std::string q(queue);
    natsStatus s =
        q.empty() ? natsConnection_Subscribe(&sub, nc_, subj.c_str(),
                                             OnSubscriptionMessage, closure)
                  : natsConnection_QueueSubscribe(&sub, nc_, subj.c_str(),
                                                  q.c_str(),
                                                  OnSubscriptionMessage,
                                                  closure);
    if (s == NATS_OK) {
      s = natsSubscription_SetOnCompleteCB(sub, OnSubscriptionComplete,
                                           closure);
      if (s != NATS_OK) {
        // Without the callback nothing frees the closure; keep it alive.
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
        return absl::InternalError(absl::StrCat(
            "cannot watch subscription to ", subject, ": ", NatsText(s)));
      }
      // Bound by message count only: the default 64 MB byte limit would
      // drop replies of large payloads at high concurrency.
      natsSubscription_SetPendingLimits(sub, max_pending_messages_, -1);
      // Round trip to the server so the subscription is in effect when this
      // returns: a service must answer as soon as AddService() is OK, also
      // to requests published on other connections.
      if (natsStatus f = natsConnection_FlushTimeout(nc_, 10000); f != NATS_OK) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
        return absl::UnavailableError(
            absl::StrCat("subscribed to ", subject,
                         " but the NATS server did not confirm it: ",
                         NatsText(f)));
      }
      return std::unique_ptr<Subscription>(
          std::make_unique<NatsSubscription>(sub));
    }
    delete closure;
    if (s == NATS_CONNECTION_CLOSED) {
      return absl::UnavailableError(absl::StrCat(
          "cannot subscribe to ", subject, ": connection closed"));
    }
    return absl::InternalError(
        absl::StrCat("cannot subscribe to ", subject, ": ", NatsText(s)));
  }

  int64_t max_payload() const override {
    return natsConnection_GetMaxPayload(nc_);
  }

  bool connected() const override {
    return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
  }

  uint64_t AddEventListener(EventListener listener) override {
    return hub_->Add(std::move(listener));
  }
  void RemoveEventListener(uint64_t id) override { hub_->Remove(id); }

  void Close() override {
    if (!closing_.exchange(true)) natsConnection_Close(nc_);
  }

 private:
  // Whether to write `m` on this thread right after publishing it.
  bool WriteNow(const OutgoingMessage& m) const {
    // NATSRPC_WRITE_NOW=0 ignores the hint; for A/B measurements only.
    static const bool enabled = [] {
      const char* env = std::getenv("NATSRPC_WRITE_NOW");
      return env == nullptr || std::string_view(env) != "0";
    }();
    return loop_ != nullptr && enabled && m.write_now;
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
  const int max_pending_messages_;
  std::atomic<bool> closing_{false};
};

// Owns a natsOptions*.
struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

absl::Status OptionError(absl::string_view field, natsStatus s) {
  return absl::InvalidArgumentError(
      absl::StrCat("ConnectOptions.", field, ": ", NatsText(s)));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Transport>> ConnectNats(
    const ConnectOptions& o) {
  if (o.max_pending_messages <= 0 ||
      o.max_pending_messages >= kMaxPendingMessagesLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConnectOptions.max_pending_messages ",
                     o.max_pending_messages, " must be in [1, ",
                     kMaxPendingMessagesLimit, ")"));
  }
  if (natsStatus s = nats_Open(-1); s != NATS_OK) {
    return absl::InternalError(absl::StrCat("nats_Open: ", NatsText(s)));
  }
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat("natsOptions_Create: ", NatsText(s)));
  }
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);

  std::vector<std::string> urls;
  for (absl::string_view u : absl::StrSplit(o.url, ',', absl::SkipWhitespace())) {
    urls.emplace_back(absl::StripAsciiWhitespace(u));
  }
  for (const std::string& u : o.servers) {
    if (!u.empty()) urls.push_back(u);
  }
  if (urls.empty()) {
    return absl::InvalidArgumentError(
        "ConnectOptions.url and ConnectOptions.servers name no server");
  }
  std::vector<const char*> url_ptrs;
  bool tls = o.tls || !o.tls_ca_file.empty() || !o.tls_cert_file.empty();
  for (const std::string& u : urls) {
    url_ptrs.push_back(u.c_str());
    if (absl::StartsWith(u, "tls://")) tls = true;
  }

  auto set = [](absl::string_view field, natsStatus s) -> absl::Status {
    return s == NATS_OK ? absl::OkStatus() : OptionError(field, s);
  };
  absl::Status st = set(
      "url", natsOptions_SetServers(opts.get(), url_ptrs.data(),
                                    static_cast<int>(url_ptrs.size())));
  if (st.ok() && !o.name.empty()) {
    st = set("name", natsOptions_SetName(opts.get(), o.name.c_str()));
  }
  if (st.ok() && (!o.user.empty() || !o.password.empty())) {
    st = set("user", natsOptions_SetUserInfo(opts.get(), o.user.c_str(),
                                             o.password.c_str()));
  }
  if (st.ok() && !o.token.empty()) {
    st = set("token", natsOptions_SetToken(opts.get(), o.token.c_str()));
  }
  if (st.ok() && !o.creds_file.empty()) {
    st = set("creds_file", natsOptions_SetUserCredentialsFromFiles(
                               opts.get(), o.creds_file.c_str(), nullptr));
  }
  if (st.ok() && tls) {
    st = set("tls", natsOptions_SetSecure(opts.get(), true));
    if (st.ok() && !o.tls_ca_file.empty()) {
      st = set("tls_ca_file", natsOptions_LoadCATrustedCertificates(
                                  opts.get(), o.tls_ca_file.c_str()));
    }
    if (st.ok() && (!o.tls_cert_file.empty() || !o.tls_key_file.empty())) {
      st = set("tls_cert_file",
               natsOptions_LoadCertificatesChain(
                   opts.get(), o.tls_cert_file.c_str(), o.tls_key_file.c_str()));
    }
    if (st.ok() && !o.tls_hostname.empty()) {
      st = set("tls_hostname", natsOptions_SetExpectedHostname(
                                   opts.get(), o.tls_hostname.c_str()));
    }
    if (st.ok() && o.tls_skip_verify) {
      st = set("tls_skip_verify",
               natsOptions_SkipServerVerification(opts.get(), true));
    }
  }
  if (st.ok()) {
    st = set("allow_reconnect",
             natsOptions_SetAllowReconnect(opts.get(), o.allow_reconnect));
  }
  if (st.ok()) {
    st = set("max_reconnect_attempts",
             natsOptions_SetMaxReconnect(opts.get(), o.max_reconnect_attempts));
  }
  if (st.ok()) {
    st = set("reconnect_wait",
             natsOptions_SetReconnectWait(
                 opts.get(), absl::ToInt64Milliseconds(o.reconnect_wait)));
  }
  if (st.ok()) {
    st = set("reconnect_buffer_bytes",
             natsOptions_SetReconnectBufSize(opts.get(),
                                             o.reconnect_buffer_bytes));
  }
  if (st.ok() && o.retry_on_failed_connect) {
    st = set("retry_on_failed_connect",
             natsOptions_SetRetryOnFailedConnect(opts.get(), true, nullptr,
                                                 nullptr));
  }
  if (st.ok()) {
    st = set("connect_timeout",
             natsOptions_SetTimeout(opts.get(),
                                    absl::ToInt64Milliseconds(o.connect_timeout)));
  }
  if (st.ok()) {
    st = set("ping_interval",
             natsOptions_SetPingInterval(
                 opts.get(), absl::ToInt64Milliseconds(o.ping_interval)));
  }
  if (st.ok()) {
    st = set("max_pings_out",
             natsOptions_SetMaxPingsOut(opts.get(), o.max_pings_out));
  }
  if (st.ok()) {
    st = set("max_pending_messages",
             natsOptions_SetMaxPendingMsgs(opts.get(), o.max_pending_messages));
  }
  // Never wait up to 1 ms for nats.c's flusher thread (PLATFORM.md, "The
  // 1 ms trap"): with SendAsap and our event loop attached, a publish appends
  // to nats.c's buffer and asks for write interest once per burst; the loop
  // thread writes the whole burst with one send().
  if (st.ok()) st = set("send_asap", natsOptions_SetSendAsap(opts.get(), true));
  if (!st.ok()) return st;
  // NATSRPC_EVENT_LOOP=0 falls back to plain SendAsap (one send() per
  // publish); for A/B measurements only.
  std::unique_ptr<EventLoop> loop;
  if (const char* env = std::getenv("NATSRPC_EVENT_LOOP");
      env == nullptr || std::string_view(env) != "0") {
    absl::StatusOr<std::unique_ptr<EventLoop>> started = EventLoop::Start();
    if (!started.ok()) return started.status();
    loop = *std::move(started);
    if (natsStatus s = loop->Install(opts.get()); s != NATS_OK) {
      return absl::InternalError(
          absl::StrCat("natsOptions_SetEventLoop: ", NatsText(s)));
    }
  }

  auto hub = std::make_unique<EventHub>();
  EventHub* h = hub.get();
  natsOptions_SetClosedCB(opts.get(), OnClosed, h);
  natsOptions_SetDisconnectedCB(opts.get(), OnDisconnected, h);
  natsOptions_SetReconnectedCB(opts.get(), OnReconnected, h);
  natsOptions_SetErrorHandler(opts.get(), OnAsyncError, h);

  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts.get());
  if (s != NATS_OK) {
    const std::string text = NatsText(s);
    if (loop != nullptr) loop->Stop();
    natsConnection_Destroy(nc);
    const std::string where = absl::StrJoin(urls, ",");
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
  return std::shared_ptr<Transport>(
      std::make_shared<NatsTransport>(nc, std::move(hub), std::move(loop),
                                      o.max_pending_messages));
}

}  // namespace natsrpc::internal
