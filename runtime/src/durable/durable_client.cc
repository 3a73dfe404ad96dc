// Copyright 2026 The natsrpc Authors.
//
// The requester side of durable requests (natsrpc/durable.h,
// docs/protocol.md section 14): stores a request in the responder's stream
// and reads its result from the responder's result bucket.

#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "durable/durable_common.h"
#include "natsrpc/durable.h"
#include "natsrpc/trace.h"
#include "wire/durable.h"
#include "wire/headers.h"
#include "wire/subjects.h"
#include "wire/trace_context.h"

namespace natsrpc {
namespace {

std::string RandomRequestId() {
  static constexpr char kChars[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local absl::BitGen gen;
  std::string id(22, '0');
  for (char& c : id) c = kChars[absl::Uniform(gen, 0u, 62u)];
  return id;
}

}  // namespace

namespace internal {

absl::Status ValidateRequestId(absl::string_view id) {
  if (id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("request id \"", id, "\" is longer than ",
                     kMaxRequestIdLength, " characters"));
  }
  return wire::ValidateToken("request id", id);
}

StreamSpec RequestStreamSpec(absl::string_view responder,
                             const DurableOptions& o) {
  StreamSpec spec;
  spec.name = wire::DurableStreamName(responder);
  spec.subjects = {wire::DurableStreamSubjects(responder)};
  spec.max_msgs = o.max_msgs;
  spec.max_bytes = o.max_bytes;
  spec.max_age = o.max_age;
  spec.duplicate_window = o.duplicate_window;
  return spec;
}

StreamSpec DeadLetterStreamSpec(absl::string_view responder,
                                const DurableOptions& o) {
  StreamSpec spec = RequestStreamSpec(responder, o);
  spec.name = wire::DeadLetterStreamName(responder);
  spec.subjects = {wire::DeadLetterStreamSubjects(responder)};
  return spec;
}

KeyValueSpec ResultBucketSpec(absl::string_view responder,
                              const DurableOptions& o) {
  KeyValueSpec spec;
  spec.bucket = wire::ResultBucketName(responder);
  spec.ttl = o.result_ttl;
  spec.max_bytes = o.max_bytes;
  return spec;
}

absl::StatusOr<DurableRawResult> ToRawResult(
    absl::StatusOr<std::optional<std::string>> value) {
  if (!value.ok()) return value.status();
  DurableRawResult out;
  if (!value->has_value()) return out;
  absl::StatusOr<wire::DurableResult> r = wire::DecodeDurableResult(**value);
  if (!r.ok()) return r.status();
  out.ready = true;
  out.status = std::move(r->status);
  out.content_type = std::move(r->content_type);
  out.payload = std::move(r->payload);
  return out;
}

PermissionErrors::PermissionErrors(const Connection& connection)
    : connection_(connection), state_(std::make_shared<State>()) {
  listener_ = connection_.transport().AddEventListener(
      [state = state_](const TransportEvent& e) {
        if (e.kind != TransportEvent::Kind::kPermissionDenied) return;
        // JetStream's API, acks and key-value subjects, nats.c's inboxes
        // (its JetStream answers), and durable requests.
        const absl::string_view s = e.subject;
        if (!absl::StartsWith(s, "$JS.") && !absl::StartsWith(s, "$KV.") &&
            !absl::StartsWith(s, "_INBOX.") &&
            !wire::ParseDurableSubject(s).ok()) {
          return;
        }
        absl::MutexLock lock(&state->mu);
        ++state->count;
        state->subject = e.subject;
        state->publish = e.publish;
      });
}

PermissionErrors::~PermissionErrors() {
  connection_.transport().RemoveEventListener(listener_);
}

uint64_t PermissionErrors::Mark() const {
  absl::MutexLock lock(&state_->mu);
  return state_->count;
}

absl::Status PermissionErrors::Explain(const absl::Status& status,
                                       uint64_t mark) const {
  if (status.code() != absl::StatusCode::kDeadlineExceeded) return status;
  absl::MutexLock lock(&state_->mu);
  if (state_->count <= mark) return status;
  return absl::PermissionDeniedError(absl::StrCat(
      status.message(), ": nats-server refused this connection's ",
      state_->publish ? "publish to \"" : "subscription to \"", state_->subject,
      "\" (durable requests need the grants of docs/protocol.md 14.4)"));
}

absl::Status DurableDecodeError(const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat("cannot decode the stored reply: ", status.message()));
}

namespace {

class StoredReply final : public IncomingMessage {
 public:
  explicit StoredReply(std::string payload) : payload_(std::move(payload)) {}
  absl::string_view subject() const override { return {}; }
  absl::string_view reply() const override { return {}; }
  absl::string_view data() const override { return payload_; }
  std::optional<absl::string_view> header(absl::string_view) const override {
    return std::nullopt;
  }
  Metadata headers() const override { return {}; }
  bool is_no_responders() const override { return false; }

 private:
  const std::string payload_;
};

}  // namespace

MessagePtr DurableReplyMessage(std::string payload) {
  return std::make_shared<StoredReply>(std::move(payload));
}

}  // namespace internal

DurableClient::DurableClient(const Connection& connection,
                             const ClientOptions& options,
                             absl::string_view service,
                             absl::string_view default_app,
                             const DurableOptions& durable)
    : connection_(connection),
      durable_(durable),
      requester_(options.requester),
      responder_(options.responder),
      app_(options.app.empty() ? std::string(default_app) : options.app),
      service_(service) {
  status_ = wire::ValidateToken("requester", requester_);
  if (status_.ok()) status_ = wire::ValidateToken("responder", responder_);
  if (status_.ok()) status_ = wire::ValidateToken("app", app_);
  if (status_.ok()) status_ = wire::ValidateToken("service", service_);
  if (!status_.ok()) return;
  absl::StatusOr<std::shared_ptr<JetStream>> js =
      connection_.transport().OpenJetStream(durable_.jetstream);
  if (!js.ok()) {
    status_ = js.status();
    return;
  }
  js_ = *std::move(js);
  denied_ = std::make_unique<internal::PermissionErrors>(connection_);
}

DurableClient::~DurableClient() = default;

absl::Status DurableClient::Prepare() {
  if (!status_.ok()) return status_;
  if (stream_ready_.load(std::memory_order_acquire)) return absl::OkStatus();
  if (absl::Status s =
          js_->EnsureStream(internal::RequestStreamSpec(responder_, durable_));
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          js_->EnsureKeyValue(internal::ResultBucketSpec(responder_, durable_));
      !s.ok()) {
    return s;
  }
  stream_ready_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<DurableTicket> DurableClient::Submit(
    absl::string_view method, absl::string_view payload,
    absl::string_view content_type, const DurableCallOptions& options) {
  if (!status_.ok()) return status_;
  const uint64_t mark = denied_->Mark();
  absl::StatusOr<DurableTicket> ticket =
      DoSubmit(method, payload, content_type, options);
  if (!ticket.ok()) return denied_->Explain(ticket.status(), mark);
  return ticket;
}

absl::StatusOr<DurableTicket> DurableClient::DoSubmit(
    absl::string_view method, absl::string_view payload,
    absl::string_view content_type, const DurableCallOptions& options) {
  if (absl::Status s = Prepare(); !s.ok()) return s;
  if (absl::Status s = wire::ValidateToken("method", method); !s.ok()) {
    return s;
  }
  std::string id =
      options.request_id.empty() ? RandomRequestId() : options.request_id;
  if (absl::Status s = internal::ValidateRequestId(id); !s.ok()) return s;
  // Submitted inside a span (natsrpc/trace.h): the request carries a child
  // of it, in place of trace headers in the metadata; else the metadata's
  // as they are.
  Metadata trace;
  const TraceContext& current = CurrentTraceContext();
  if (current.valid()) wire::AppendTraceHeaders(current.NewChild(), trace);
  std::vector<HeaderRef> headers;
  headers.push_back({wire::kContentTypeHeader, content_type});
  headers.push_back({wire::kRequestIdHeader, id});
  for (const auto& [k, v] : options.metadata) {
    if (!wire::IsReservedHeader(k) && k != wire::kRequestIdHeader &&
        (trace.empty() || !wire::IsTraceHeader(k))) {
      headers.push_back({k, v});
    }
  }
  for (const auto& [k, v] : trace) headers.push_back({k, v});
  absl::StatusOr<PublishAck> ack = js_->Publish(
      wire::DurableSubject(requester_, responder_, app_, service_, method),
      headers, payload, wire::ResultKey(requester_, id));
  if (!ack.ok()) return ack.status();
  DurableTicket ticket;
  ticket.request_id = std::move(id);
  ticket.stream_sequence = ack->sequence;
  ticket.duplicate = ack->duplicate;
  return ticket;
}

absl::StatusOr<DurableRawResult> DurableClient::Fetch(
    absl::string_view request_id, absl::Duration wait) {
  if (!status_.ok()) return status_;
  const uint64_t mark = denied_->Mark();
  absl::StatusOr<DurableRawResult> r = DoFetch(request_id, wait);
  if (!r.ok()) return denied_->Explain(r.status(), mark);
  return r;
}

absl::StatusOr<DurableRawResult> DurableClient::DoFetch(
    absl::string_view request_id, absl::Duration wait) {
  if (absl::Status s = Prepare(); !s.ok()) return s;
  if (absl::Status s = internal::ValidateRequestId(request_id); !s.ok()) {
    return s;
  }
  const std::string bucket = wire::ResultBucketName(responder_);
  const std::string key = wire::ResultKey(requester_, request_id);
  if (wait <= absl::ZeroDuration()) {
    return internal::ToRawResult(js_->KeyValueGet(bucket, key));
  }
  absl::StatusOr<std::unique_ptr<KeyWatcher>> watcher =
      js_->KeyValueWatch(bucket, key);
  if (!watcher.ok()) return watcher.status();
  return internal::ToRawResult((*watcher)->Next(absl::Now() + wait));
}

absl::StatusOr<DurableRawResult> DurableClient::Call(
    absl::string_view method, absl::string_view payload,
    absl::string_view content_type, const DurableCallOptions& options) {
  absl::StatusOr<DurableTicket> ticket =
      Submit(method, payload, content_type, options);
  if (!ticket.ok()) return ticket.status();
  const absl::Duration wait = options.timeout > absl::ZeroDuration()
                                  ? options.timeout
                                  : absl::Seconds(10);
  absl::StatusOr<DurableRawResult> r = Fetch(ticket->request_id, wait);
  if (r.ok() && !r->ready) {
    return absl::DeadlineExceededError(absl::StrCat(
        "durable request ", ticket->request_id, " has no result after ",
        absl::FormatDuration(wait),
        "; it stays stored and its result can be fetched by its id later"));
  }
  return r;
}

}  // namespace natsrpc
