// Copyright 2026 The natsrpc Authors.

#include "natsrpc/impl/client_channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
#include "wire/reply_metadata.h"
#include "wire/subjects.h"
#include "wire/trace_context.h"

namespace natsrpc {

bool CallHandle::Cancel() const {
  std::shared_ptr<internal::ReplyMux> mux = mux_.lock();
  if (mux == nullptr) return false;
  return mux->Cancel(seq_);
}

namespace internal {

namespace {

// The span of an outgoing call (natsrpc/trace.h): a child of the call's
// parent, or empty if it has none.
TraceContext CallSpan(const CallOptions& options, const Metadata* metadata) {
  if (options.trace_parent.valid()) return options.trace_parent.NewChild();
  const TraceContext& current = CurrentTraceContext();
  if (current.valid()) return current.NewChild();
  if (metadata != nullptr) {
    // A `traceparent` the caller put in its metadata by hand.
    TraceContext given = wire::TraceContextFromHeaders(*metadata);
    if (given.valid()) return given.NewChild();
  }
  return TraceContext();
}

// What a call sends: `metadata`, and the trace headers of `span` in place of
// any in `metadata` (in `storage` when there are some).
const Metadata* WithTrace(const TraceContext& span, const Metadata* metadata,
                          Metadata& storage) {
  if (!span.valid()) return metadata;
  storage.clear();
  if (metadata != nullptr) {
    for (const auto& kv : *metadata) {
      if (!wire::IsTraceHeader(kv.first)) storage.push_back(kv);
    }
  }
  wire::AppendTraceHeaders(span, storage);
  return &storage;
}

}  // namespace

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
  fanout_connection_.emplace(connection);
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
  TraceContext span = CallSpan(options, *metadata);
  if (options.context != nullptr) {
    options.context->initial_.clear();
    options.context->trailing_.clear();
    options.context->trace_ = TraceContext();
  }
  if (!interceptors_.empty()) {
    return StartIntercepted(m, request.view(), content_type, *metadata,
                            std::move(span), options.context, deadline,
                            std::move(done));
  }
  Metadata traced;
  const Metadata* sent = WithTrace(span, *metadata, traced);
  if (options.context != nullptr) {
    options.context->trace_ = std::move(span);
    done = FillContext(options.context, std::move(done));
  }
  return mux_->Start(m.subject, reply_prefix_, content_type, sent,
                     request.view(), deadline, std::move(done));
}

ClientChannel::RawCallback ClientChannel::FillContext(ClientContext* context,
                                                      RawCallback done) {
  return [context, done = std::move(done)](absl::Status status,
                                           MessagePtr reply) mutable {
    if (reply != nullptr) {
      wire::SplitMetadata(reply->headers(), wire::kTrailerPrefix,
                          context->initial_, context->trailing_);
    }
    done(std::move(status), std::move(reply));
  };
}

CallHandle ClientChannel::StartIntercepted(
    const Method& m, absl::string_view payload, absl::string_view content_type,
    const Metadata* metadata, TraceContext span, ClientContext* context,
    absl::Time deadline, RawCallback done) {
  std::shared_ptr<ClientCallInterceptors> chain =
      ClientCallInterceptors::Intercept(
          interceptors_,
          CallInfo{requester_, responder_, app_, service_, m.name,
                   CallKind::kUnary, deadline},
          span);
  if (context != nullptr) done = FillContext(context, std::move(done));
  Metadata traced;
  if (chain == nullptr) {
    if (context != nullptr) context->trace_ = span;
    return mux_->Start(m.subject, reply_prefix_, content_type,
                       WithTrace(span, metadata, traced), payload, deadline,
                       std::move(done));
  }
  Metadata request_metadata = metadata == nullptr ? Metadata() : *metadata;
  if (absl::Status s = chain->Start(request_metadata); !s.ok()) {
    done(std::move(s), nullptr);
    return CallHandle();
  }
  if (context != nullptr) context->trace_ = chain->trace();
  const Metadata* sent =
      WithTrace(chain->trace(),
                request_metadata.empty() ? nullptr : &request_metadata, traced);
  return mux_->Start(
      m.subject, reply_prefix_, content_type, sent, payload, deadline,
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
  TraceContext span = CallSpan(options, *metadata);
  std::shared_ptr<ClientCallInterceptors> chain;
  Metadata request_metadata;
  if (!interceptors_.empty()) {
    chain = ClientCallInterceptors::Intercept(
        interceptors_,
        CallInfo{requester_, responder_, app_, service_, m.name, m.kind,
                 deadline},
        span);
  }
  if (chain != nullptr) {
    if (*metadata != nullptr) request_metadata = **metadata;
    if (absl::Status s = chain->Start(request_metadata); !s.ok()) {
      ended->Finish(s);
      return FailedStream(std::move(s));
    }
    metadata = request_metadata.empty() ? nullptr : &request_metadata;
    span = chain->trace();
  }
  Metadata traced;
  metadata = WithTrace(span, *metadata, traced);
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
  // Set once the endpoint exists; the callbacks below run only after the
  // open, which follows.
  struct EndpointRef {
    absl::Mutex mu;
    std::weak_ptr<StreamEndpoint> endpoint ABSL_GUARDED_BY(mu);
  };
  auto endpoint = std::make_shared<EndpointRef>();
  // The endpoint reports the end once to these (a failure, or the end a
  // Read returns); the chain runs OnFinish for the first, with the
  // server's initial metadata and trailers received by then.
  auto received = [endpoint] {
    Metadata out;
    std::shared_ptr<StreamEndpoint> e;
    {
      absl::MutexLock lock(&endpoint->mu);
      e = endpoint->endpoint.lock();
    }
    if (e != nullptr) {
      out = e->initial_metadata();
      Metadata trailers = e->trailing_metadata();
      out.insert(out.end(), trailers.begin(), trailers.end());
    }
    return out;
  };
  params.on_failure = [chain, ended, received](const absl::Status& status) {
    ended->Finish(status);
    if (chain != nullptr) chain->Finish(status, received());
  };
  params.on_read_end = [chain, ended, received](const absl::Status& status) {
    ended->Finish(status);
    if (chain != nullptr) chain->Finish(status, received());
  };
  std::shared_ptr<StreamEndpoint> stream = mux_->OpenStream(std::move(params));
  {
    absl::MutexLock lock(&endpoint->mu);
    endpoint->endpoint = stream;
  }
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
