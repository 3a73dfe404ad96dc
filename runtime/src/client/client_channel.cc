// Copyright 2026 The natsrpc Authors.

#include "natsrpc/impl/client_channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/connection_state.h"
#include "client/reply_mux.h"
#include "natsrpc/client.h"
#include "natsrpc/impl/stream_endpoint.h"
#include "natsrpc/status_macros.h"
#include "stream/stream_endpoint.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/subjects.h"

namespace natsrpc {

bool CallHandle::Cancel() const {
  std::shared_ptr<internal::ReplyMux> mux = mux_.lock();
  if (mux == nullptr) return false;
  return mux->Cancel(seq_);
}

namespace internal {

absl::Status ReplyDecodeError(const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat("cannot decode the reply: ", status.message()));
}

ClientChannel::ClientChannel(const Connection& connection,
                             const ClientOptions& options,
                             absl::string_view service,
                             absl::string_view default_app,
                             absl::Span<const MethodSpec> methods)
    : app_(options.app.empty() ? std::string(default_app) : options.app),
      default_timeout_(options.default_timeout > absl::ZeroDuration()
                           ? options.default_timeout
                           : kDefaultCallTimeout),
      metadata_(options.metadata) {
  requester_ = options.requester;
  responder_ = options.responder;
  service_ = std::string(service);
  stream_window_ = options.stream_window > 0 ? options.stream_window
                                             : wire::kDefaultStreamWindow;
  stream_heartbeat_ = options.stream_heartbeat > absl::ZeroDuration()
                          ? options.stream_heartbeat
                          : wire::kDefaultStreamHeartbeat;
  status_ = wire::ValidateToken("ClientOptions.requester", options.requester);
  if (status_.ok()) {
    status_ = wire::ValidateToken("ClientOptions.responder", options.responder);
  }
  if (status_.ok()) {
    status_ = wire::ValidateToken(
        options.app.empty() ? "app (from the IDL)" : "ClientOptions.app", app_);
  }
  if (status_.ok()) status_ = wire::ValidateMetadata(metadata_);
  if (status_.ok()) {
    absl::StatusOr<std::shared_ptr<ReplyMux>> mux =
        ConnectionAccess::State(connection)->GetReplyMux(options.requester);
    if (mux.ok()) {
      mux_ = *std::move(mux);
    } else {
      status_ = mux.status();
    }
  }
  if (!status_.ok()) return;
  reply_prefix_ = wire::ResponsePrefix(options.requester, options.responder, app_,
                                 mux_->client_id());
  methods_.reserve(methods.size());
  for (const MethodSpec& m : methods) {
    const absl::Duration stream_timeout =
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : options.default_timeout;
    methods_.push_back(Method{
        std::make_shared<const std::string>(wire::RequestSubject(
            options.requester, options.responder, app_, service, m.name)),
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : default_timeout_,
        std::string(m.name), std::max(stream_timeout, absl::ZeroDuration())});
  }
}

ClientChannel::~ClientChannel() = default;

CallHandle ClientChannel::StartCall(int method, const Payload& request,
                                    absl::string_view content_type,
                                    const CallOptions& options,
                                    RawCallback done) {
  if (!status_.ok()) {
    done(status_, nullptr);
    return CallHandle();
  }
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    done(absl::InvalidArgumentError(
             absl::StrCat("no method number ", method, " in this client")),
         nullptr);
    return CallHandle();
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  const absl::Duration timeout =
      options.timeout > absl::ZeroDuration() ? options.timeout : m.timeout;
  const absl::Time deadline = std::min(absl::Now() + timeout, options.deadline);

  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) {
    done(metadata.status(), nullptr);
    return CallHandle();
  }
  return mux_->Start(m.subject, reply_prefix_, content_type, *metadata,
                     request.view(), deadline, std::move(done));
}

absl::StatusOr<const Metadata*> ClientChannel::CallMetadata(
    const CallOptions& options, Metadata& merged) const {
  if (options.metadata.empty()) {
    return metadata_.empty() ? nullptr : &metadata_;
  }
  NATSRPC_RETURN_IF_ERROR(wire::ValidateMetadata(options.metadata));
  if (metadata_.empty()) return &options.metadata;
  merged = metadata_;
  merged.insert(merged.end(), options.metadata.begin(), options.metadata.end());
  return &merged;
}

std::shared_ptr<StreamEndpoint> ClientChannel::OpenStream(
    int method, bool client_sends, const Payload* request,
    absl::string_view content_type, const CallOptions& options) {
  if (!status_.ok()) return FailedStream(status_);
  if (method < 0 || static_cast<size_t>(method) >= methods_.size()) {
    return FailedStream(absl::InvalidArgumentError(
        absl::StrCat("no method number ", method, " in this client")));
  }
  const Method& m = methods_[static_cast<size_t>(method)];
  const absl::Duration timeout = options.timeout > absl::ZeroDuration()
                                     ? options.timeout
                                     : m.stream_timeout;
  const absl::Time deadline =
      std::min(timeout > absl::ZeroDuration() ? absl::Now() + timeout
                                              : absl::InfiniteFuture(),
               options.deadline);
  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) return FailedStream(metadata.status());
  ClientStreamParams params;
  params.requester = requester_;
  params.responder = responder_;
  params.app = app_;
  params.service = service_;
  params.method = m.name;
  params.deadline = deadline;
  params.sends = client_sends;
  params.window = stream_window_;
  params.heartbeat = stream_heartbeat_;
  params.content_type = std::string(content_type);
  params.metadata = *metadata;
  if (request != nullptr) params.payload = std::string(request->view());
  return mux_->OpenStream(std::move(params));
}

ClientStats ClientChannel::stats() const {
  return mux_ == nullptr ? ClientStats() : mux_->stats();
}

}  // namespace internal
}  // namespace natsrpc
