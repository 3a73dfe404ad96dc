// Copyright 2026 The natsrpc Authors.

#include "natsrpc/impl/client_channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/call_interceptors.h"
#include "client/client_metrics.h"
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
      metadata_(options.metadata),
      interceptors_(options.interceptors) {
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
  reply_prefix_ = wire::ResponsePrefix(options.requester, options.responder,
                                       app_, mux_->client_id());
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
        std::string(m.name), std::max(stream_timeout, absl::ZeroDuration()),
        m.kind,
        ConnectionAccess::State(connection)
            ->metrics()
            .Method(app_, service, m.name, m.kind)});
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
  // Counted once it ends, whichever way (Connection::client_stats()).
  m.counters->calls.fetch_add(1, std::memory_order_relaxed);
  done = [counters = m.counters.get(), start = absl::Now(),
          done = std::move(done)](absl::Status status,
                                  MessagePtr reply) mutable {
    counters->Finish(status.code(), start);
    done(std::move(status), std::move(reply));
  };
  const absl::Duration timeout =
      options.timeout > absl::ZeroDuration() ? options.timeout : m.timeout;
  const absl::Time deadline = std::min(absl::Now() + timeout, options.deadline);

  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) {
    done(metadata.status(), nullptr);
    return CallHandle();
  }
  if (!interceptors_.empty()) {
    return StartIntercepted(m, request.view(), content_type, *metadata,
                            deadline, std::move(done));
  }
  return mux_->Start(m.subject, reply_prefix_, content_type, *metadata,
                     request.view(), deadline, std::move(done));
}

CallHandle ClientChannel::StartIntercepted(
    const Method& m, absl::string_view payload, absl::string_view content_type,
    const Metadata* metadata, absl::Time deadline, RawCallback done) {
  std::shared_ptr<ClientCallInterceptors> chain =
      ClientCallInterceptors::Intercept(
          interceptors_, CallInfo{requester_, responder_, app_, service_,
                                  m.name, CallKind::kUnary, deadline});
  if (chain == nullptr) {
    return mux_->Start(m.subject, reply_prefix_, content_type, metadata,
                       payload, deadline, std::move(done));
  }
  Metadata request_metadata = metadata == nullptr ? Metadata() : *metadata;
  if (absl::Status s = chain->Start(request_metadata); !s.ok()) {
    done(std::move(s), nullptr);
    return CallHandle();
  }
  return mux_->Start(
      m.subject, reply_prefix_, content_type,
      request_metadata.empty() ? nullptr : &request_metadata, payload, deadline,
      [chain = std::move(chain), done = std::move(done)](
          absl::Status status, MessagePtr reply) mutable {
        chain->Finish(status,
                      reply == nullptr ? Metadata() : ResponseMetadata(*reply));
        done(std::move(status), std::move(reply));
      });
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
  // Counted once when the stream ends (the first of the endpoint's reports,
  // or a failed open), as the interceptors' chain below.
  m.counters->calls.fetch_add(1, std::memory_order_relaxed);
  struct Ended {
    ClientMethodCounters* counters;
    absl::Time start = absl::Now();
    std::atomic<bool> done{false};
    void Finish(const absl::Status& status) {
      if (!done.exchange(true)) counters->Finish(status.code(), start);
    }
  };
  auto ended = std::make_shared<Ended>();
  ended->counters = m.counters.get();
  const absl::Duration timeout = options.timeout > absl::ZeroDuration()
                                     ? options.timeout
                                     : m.stream_timeout;
  const absl::Time deadline =
      std::min(timeout > absl::ZeroDuration() ? absl::Now() + timeout
                                              : absl::InfiniteFuture(),
               options.deadline);
  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) {
    ended->Finish(metadata.status());
    return FailedStream(metadata.status());
  }
  std::shared_ptr<ClientCallInterceptors> chain;
  Metadata request_metadata;
  if (!interceptors_.empty()) {
    chain = ClientCallInterceptors::Intercept(
        interceptors_, CallInfo{requester_, responder_, app_, service_, m.name,
                                m.kind, deadline});
  }
  if (chain != nullptr) {
    if (*metadata != nullptr) request_metadata = **metadata;
    if (absl::Status s = chain->Start(request_metadata); !s.ok()) {
      ended->Finish(s);
      return FailedStream(std::move(s));
    }
    metadata = request_metadata.empty() ? nullptr : &request_metadata;
  }
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
  params.credit_stalls = m.counters->credit_stalls;
  // The endpoint reports the end once to these (a failure, or the end a
  // Read returns); the chain runs OnFinish for the first. The stream core
  // does not keep the server end's trailers: interceptors get none.
  params.on_failure = [chain, ended](const absl::Status& status) {
    ended->Finish(status);
    if (chain != nullptr) chain->Finish(status, Metadata());
  };
  params.on_read_end = [chain, ended](const absl::Status& status) {
    ended->Finish(status);
    if (chain != nullptr) chain->Finish(status, Metadata());
  };
  std::shared_ptr<StreamEndpoint> stream = mux_->OpenStream(std::move(params));
  // A stream that could not be opened (no connection, deadline passed) comes
  // back failed without an endpoint that reports it.
  if (absl::Status failure = StreamFailure(*stream); !failure.ok()) {
    ended->Finish(failure);
    if (chain != nullptr) chain->Finish(failure, Metadata());
  }
  return stream;
}

ClientStats ClientChannel::stats() const {
  return mux_ == nullptr ? ClientStats() : mux_->stats();
}

}  // namespace internal
}  // namespace natsrpc
