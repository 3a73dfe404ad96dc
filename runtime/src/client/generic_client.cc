// Copyright 2026 The natsrpc Authors.
//
// natsrpc/generic_client.h: calls by method name over the ordinary client
// channel (natsrpc/impl/client_channel.h), one channel per method and kind,
// made on first use; and DiscoverServices, ADR-32's $SRV.INFO asked over the
// transport (its subjects and JSON in wire/discovery.h).

#include "natsrpc/generic_client.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "natsrpc/impl/client_channel.h"
#include "wire/discovery.h"
#include "wire/schema.h"
#include "wire/subjects.h"

namespace natsrpc {
namespace internal {

// Bytes as they are.
template <>
struct GenericCodec<std::string> {
  static absl::Status Encode(const std::string& message, Payload& out) {
    out.mutable_bytes() = message;
    return absl::OkStatus();
  }
  static absl::Status Decode(const MessagePtr& message, std::string& out) {
    out = std::string(message->data());
    return absl::OkStatus();
  }
};

// Any protobuf message, generated or dynamic.
template <>
struct GenericCodec<google::protobuf::MessageLite> {
  static absl::Status Encode(const google::protobuf::MessageLite& message,
                             Payload& out) {
    if (!message.IsInitialized()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot serialize ", message.GetTypeName(),
                       ": required fields are missing"));
    }
    if (!message.SerializeToString(&out.mutable_bytes())) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot serialize ", message.GetTypeName()));
    }
    return absl::OkStatus();
  }
  static absl::Status Decode(const MessagePtr& message,
                             google::protobuf::MessageLite& out) {
    const absl::string_view data = message->data();
    out.Clear();
    if (!out.ParsePartialFromArray(data.data(),
                                   static_cast<int>(data.size()))) {
      return absl::InternalError(absl::StrCat("payload of ", data.size(),
                                              " bytes is not a valid ",
                                              out.GetTypeName()));
    }
    return absl::OkStatus();
  }
};

}  // namespace internal

namespace {

using internal::GenericCodec;
using ProtoCodec = GenericCodec<google::protobuf::MessageLite>;

absl::string_view KindName(CallKind kind) {
  switch (kind) {
    case CallKind::kUnary:
      return "unary";
    case CallKind::kServerStreaming:
      return "server-streaming";
    case CallKind::kClientStreaming:
      return "client-streaming";
    case CallKind::kBidiStreaming:
      return "bidi-streaming";
  }
  return "unknown";
}

}  // namespace

// --- GenericStream.

GenericStream::GenericStream(std::shared_ptr<internal::StreamEndpoint> endpoint,
                             absl::Time deadline)
    : s_(std::move(endpoint), deadline, absl::StatusCode::kInternal,
         /*abandon_on_destruction=*/true) {}

GenericStream::~GenericStream() = default;

bool GenericStream::Write(absl::string_view bytes) {
  return s_.WriteTyped(std::string(bytes));
}

bool GenericStream::Write(const google::protobuf::MessageLite& request) {
  return s_.WriteTyped(request);
}

bool GenericStream::WritesDone() {
  if (writes_done_) return true;
  writes_done_ = true;
  return internal::StreamSendEnd(s_.endpoint(), absl::OkStatus(), nullptr,
                                 s_.deadline())
      .ok();
}

bool GenericStream::Read(std::string* reply) { return s_.ReadTyped(reply); }

bool GenericStream::Read(google::protobuf::MessageLite* reply) {
  return s_.ReadTyped(reply);
}

absl::Status GenericStream::Finish() { return s_.Drain(); }

void GenericStream::Cancel() {
  internal::StreamCancel(s_.endpoint(), absl::CancelledError("cancelled"));
}

Metadata GenericStream::GetServerInitialMetadata() const {
  return internal::StreamInitialMetadata(s_.endpoint());
}

Metadata GenericStream::GetServerTrailingMetadata() const {
  return internal::StreamTrailingMetadata(s_.endpoint());
}

StreamStats GenericStream::stats() const { return s_.stats(); }

// --- GenericClient.

GenericClient::GenericClient(const Connection& connection,
                             ClientOptions options, absl::string_view service)
    : connection_(connection), options_(std::move(options)), service_(service) {
  if (options_.app.empty()) {
    status_ = absl::InvalidArgumentError(
        "GenericClient needs ClientOptions.app: there is no IDL to take the "
        "app from");
    return;
  }
  status_ = wire::ValidateToken("service", service_);
  // The channel checks requester, responder and app; make one now so that
  // status() tells at once.
  if (status_.ok())
    status_ = Channel(wire::kSchemaMethod, CallKind::kUnary).status();
}

GenericClient::~GenericClient() = default;

absl::StatusOr<internal::ClientChannel*> GenericClient::Channel(
    absl::string_view method, CallKind kind) {
  if (absl::Status s = wire::ValidateToken("method", method); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  auto key = std::make_pair(std::string(method), kind);
  auto it = channels_.find(key);
  if (it == channels_.end()) {
    const internal::MethodSpec spec{.name = key.first,
                                    .default_timeout = absl::ZeroDuration(),
                                    .kind = kind};
    auto channel = std::make_unique<internal::ClientChannel>(
        connection_, options_, service_, options_.app,
        absl::MakeConstSpan(&spec, 1));
    if (!channel->status().ok()) return channel->status();
    it = channels_.emplace(std::move(key), std::move(channel)).first;
  }
  return it->second.get();
}

CallHandle GenericClient::CallAsync(
    absl::string_view method, absl::string_view request,
    absl::AnyInvocable<void(absl::StatusOr<std::string>)> done,
    const CallOptions& options, absl::string_view content_type) {
  if (!status_.ok()) {
    done(status_);
    return CallHandle();
  }
  absl::StatusOr<internal::ClientChannel*> channel =
      Channel(method, CallKind::kUnary);
  if (!channel.ok()) {
    done(channel.status());
    return CallHandle();
  }
  return (*channel)->StartCall(
      0, Payload(std::string(request)), content_type, options,
      [done = std::move(done)](absl::Status status, MessagePtr reply) mutable {
        if (!status.ok()) {
          done(std::move(status));
          return;
        }
        done(std::string(reply->data()));
      });
}

absl::StatusOr<std::string> GenericClient::Call(
    absl::string_view method, absl::string_view request,
    const CallOptions& options, absl::string_view content_type) {
  absl::StatusOr<std::string> result;
  absl::Notification done;
  CallAsync(
      method, request,
      [&result, &done](absl::StatusOr<std::string> r) {
        result = std::move(r);
        done.Notify();
      },
      options, content_type);
  done.WaitForNotification();
  return result;
}

absl::Status GenericClient::Call(absl::string_view method,
                                 const google::protobuf::MessageLite& request,
                                 google::protobuf::MessageLite* reply,
                                 const CallOptions& options) {
  Payload payload;
  if (absl::Status s = ProtoCodec::Encode(request, payload); !s.ok()) return s;
  absl::StatusOr<std::string> bytes =
      Call(method, payload.view(), options, kProtobufContentType);
  if (!bytes.ok()) return bytes.status();
  if (reply == nullptr) return absl::OkStatus();
  reply->Clear();
  if (!reply->ParsePartialFromString(*bytes)) {
    return internal::ReplyDecodeError(absl::InvalidArgumentError(
        absl::StrCat("payload of ", bytes->size(), " bytes is not a valid ",
                     reply->GetTypeName())));
  }
  return absl::OkStatus();
}

std::unique_ptr<GenericStream> GenericClient::OpenServerStream(
    absl::string_view method, absl::string_view request,
    const CallOptions& options, absl::string_view content_type) {
  std::shared_ptr<internal::StreamEndpoint> e;
  absl::StatusOr<internal::ClientChannel*> channel =
      status_.ok() ? Channel(method, CallKind::kServerStreaming) : status_;
  if (!channel.ok()) {
    e = internal::FailedStream(channel.status());
  } else {
    const Payload payload{std::string(request)};
    e = (*channel)->OpenStream(0, /*client_sends=*/false, &payload,
                               content_type, options);
  }
  const absl::Time deadline = internal::StreamDeadline(*e);
  return std::make_unique<GenericStream>(std::move(e), deadline);
}

std::unique_ptr<GenericStream> GenericClient::OpenServerStream(
    absl::string_view method, const google::protobuf::MessageLite& request,
    const CallOptions& options) {
  Payload payload;
  if (absl::Status s = ProtoCodec::Encode(request, payload); !s.ok()) {
    std::shared_ptr<internal::StreamEndpoint> e = internal::FailedStream(s);
    const absl::Time deadline = internal::StreamDeadline(*e);
    return std::make_unique<GenericStream>(std::move(e), deadline);
  }
  return OpenServerStream(method, payload.view(), options,
                          kProtobufContentType);
}

std::unique_ptr<GenericStream> GenericClient::OpenStream(
    absl::string_view method, CallKind kind, const CallOptions& options,
    absl::string_view content_type) {
  std::shared_ptr<internal::StreamEndpoint> e;
  if (kind != CallKind::kClientStreaming && kind != CallKind::kBidiStreaming) {
    e = internal::FailedStream(absl::InvalidArgumentError(
        absl::StrCat("OpenStream opens client and bidi streams, not ",
                     KindName(kind), " calls")));
  } else {
    absl::StatusOr<internal::ClientChannel*> channel =
        status_.ok() ? Channel(method, kind) : status_;
    e = channel.ok() ? (*channel)->OpenStream(0, /*client_sends=*/true, nullptr,
                                              content_type, options)
                     : internal::FailedStream(channel.status());
  }
  const absl::Time deadline = internal::StreamDeadline(*e);
  return std::make_unique<GenericStream>(std::move(e), deadline);
}

absl::StatusOr<RemoteSchema> GenericClient::FetchSchema(
    const CallOptions& options) {
  if (!status_.ok()) return status_;
  absl::StatusOr<internal::ClientChannel*> channel =
      Channel(wire::kSchemaMethod, CallKind::kUnary);
  if (!channel.ok()) return channel.status();
  absl::StatusOr<RemoteSchema> result;
  absl::Notification done;
  (*channel)->StartCall(
      0, Payload(), kProtobufContentType, options,
      [&result, &done](absl::Status status, MessagePtr reply) {
        if (!status.ok()) {
          result = std::move(status);
        } else {
          RemoteSchema schema;
          schema.encoding_name = std::string(
              reply->header(wire::kSchemaEncodingHeader).value_or(""));
          schema.service = std::string(
              reply->header(wire::kSchemaServiceHeader).value_or(""));
          for (SchemaEncoding e : {SchemaEncoding::kProtobufFileDescriptorSet,
                                   SchemaEncoding::kFlatBuffersBinarySchema}) {
            if (schema.encoding_name == wire::SchemaEncodingName(e)) {
              schema.encoding = e;
            }
          }
          schema.bytes = std::string(reply->data());
          result = std::move(schema);
        }
        done.Notify();
      });
  done.WaitForNotification();
  return result;
}

// --- DiscoverServices.

namespace {

std::string MetaValue(const wire::MicroMetadata& metadata,
                      absl::string_view key) {
  for (const auto& [k, v] : metadata) {
    if (k == key) return v;
  }
  return "";
}

CallKind KindFromMeta(absl::string_view kind) {
  if (kind == wire::kKindServer) return CallKind::kServerStreaming;
  if (kind == wire::kKindClient) return CallKind::kClientStreaming;
  if (kind == wire::kKindBidi) return CallKind::kBidiStreaming;
  return CallKind::kUnary;
}

std::string RandomToken() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  absl::BitGen gen;
  std::string out(22, '0');
  for (char& c : out) c = kAlphabet[absl::Uniform(gen, 0u, 62u)];
  return out;
}

}  // namespace

absl::StatusOr<std::vector<DiscoveredService>> DiscoverServices(
    const Connection& connection, const DiscoveryOptions& options) {
  struct Collected {
    absl::Mutex mu;
    std::vector<std::string> answers ABSL_GUARDED_BY(mu);
    absl::Time last ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  };
  auto collected = std::make_shared<Collected>();
  const std::string inbox = wire::DiscoveryInbox(RandomToken());
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      connection.transport().Subscribe(inbox, "", [collected](MessagePtr m) {
        absl::MutexLock lock(&collected->mu);
        collected->answers.emplace_back(m->data());
        collected->last = absl::Now();
      });
  if (!sub.ok()) return sub.status();
  const std::string subject = wire::DiscoveryRequestSubject(
      wire::DiscoveryVerb::kInfo, options.name, "");
  OutgoingMessage request;
  request.subject = subject;
  request.reply = inbox;
  request.flush = FlushPolicy::kNow;
  if (absl::Status s = connection.transport().Publish(request); !s.ok()) {
    return s;
  }
  const absl::Time end = absl::Now() + options.timeout;
  std::vector<std::string> answers;
  {
    absl::MutexLock lock(&collected->mu);
    while (true) {
      const absl::Time now = absl::Now();
      absl::Time wake = end;
      if (!collected->answers.empty()) {
        wake = std::min(wake, collected->last + options.gap);
      }
      if (now >= wake) break;
      const size_t seen = collected->answers.size();
      std::pair<Collected*, size_t> arg(collected.get(), seen);
      collected->mu.AwaitWithDeadline(
          absl::Condition(
              +[](std::pair<Collected*, size_t>* a) {
                a->first->mu.AssertHeld();
                return a->first->answers.size() != a->second;
              },
              &arg),
          wake);
    }
    answers = collected->answers;
  }
  sub->reset();

  std::vector<DiscoveredService> out;
  for (const std::string& json : answers) {
    absl::StatusOr<wire::MicroInfo> info = wire::ParseInfoResponse(json);
    if (!info.ok()) continue;
    DiscoveredService d;
    d.app = MetaValue(info->identity.metadata, wire::kMetaApp);
    if (d.app.empty()) continue;  // not a natsrpc service
    d.name = info->identity.name;
    d.id = info->identity.id;
    d.version = info->identity.version;
    d.description = info->description;
    d.responder = MetaValue(info->identity.metadata, wire::kMetaResponder);
    d.service = MetaValue(info->identity.metadata, wire::kMetaService);
    d.runtime_version = MetaValue(info->identity.metadata, wire::kMetaVersion);
    d.protocol_revision =
        MetaValue(info->identity.metadata, wire::kMetaProtocol);
    for (const wire::MicroEndpoint& e : info->endpoints) {
      d.endpoints.push_back(DiscoveredService::Endpoint{
          .name = e.name,
          .subject = e.subject,
          .queue_group = e.queue_group,
          .kind = KindFromMeta(MetaValue(e.metadata, wire::kMetaKind)),
          .request_type = MetaValue(e.metadata, wire::kMetaRequestType),
          .response_type = MetaValue(e.metadata, wire::kMetaResponseType)});
    }
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(),
            [](const DiscoveredService& a, const DiscoveredService& b) {
              return std::tie(a.service, a.app, a.responder, a.id) <
                     std::tie(b.service, b.app, b.responder, b.id);
            });
  return out;
}

}  // namespace natsrpc
