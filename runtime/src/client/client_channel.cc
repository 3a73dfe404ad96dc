// Copyright 2026 The natsrpc Authors.

#include "natsrpc/impl/client_channel.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/call_interceptors.h"
#include "client/client_metrics.h"
#include "client/connection_state.h"
#include "client/gather_mux.h"
#include "client/reply_mux.h"
#include "client/retry.h"
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
  if (std::shared_ptr<internal::RetryingCall> call = retrying_.lock()) {
    return call->Cancel();
  }
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
  fanout_connection_.emplace(connection);
  requester_ = options.requester;
  responder_ = options.responder;
  service_ = std::string(service);
  stream_window_ = options.stream_window;
  stream_window_bytes_ = options.stream_window_bytes > 0
                             ? options.stream_window_bytes
                             : wire::kDefaultStreamWindowBytes;
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
  if (status_.ok() && !options.instance.empty()) {
    status_ = wire::ValidateToken("ClientOptions.instance", options.instance);
  }
  instance_ = options.instance;
  retry_ = options.retry;
  wait_for_ready_ = options.wait_for_ready;
  transport_ = ConnectionAccess::State(connection)->transport();
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
  gathers_ = std::make_unique<GatherMux>(connection, options.requester,
                                         options.responder, app_);
  methods_.reserve(methods.size());
  for (const MethodSpec& m : methods) {
    const absl::Duration stream_timeout =
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : options.default_timeout;
    auto route = std::make_shared<UnaryRoute>();
    route->subject = wire::InstanceRequestSubject(
        options.requester, options.responder, app_, service, m.name, instance_);
    route->counters = ConnectionAccess::State(connection)
                          ->metrics()
                          .Method(app_, service, m.name, m.kind);
    std::shared_ptr<const std::string> subject(route, &route->subject);
    std::shared_ptr<ClientMethodCounters> counters = route->counters;
    methods_.push_back(Method{
        std::move(route), std::move(subject),
        m.default_timeout > absl::ZeroDuration() ? m.default_timeout
                                                 : default_timeout_,
        std::string(m.name), std::max(stream_timeout, absl::ZeroDuration()),
        m.kind, std::move(counters), m.idempotent});
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
  // Counted once it ends, whichever way (Connection::client_stats()): here
  // if it ends before it reaches the mux, else by the mux, which keeps the
  // start with the pending call (no wrapper around `done`).
  m.counters->calls.fetch_add(1, std::memory_order_relaxed);
  const absl::Time start = absl::Now();
  const absl::Duration timeout =
      options.timeout > absl::ZeroDuration() ? options.timeout : m.timeout;
  const absl::Time deadline = std::min(start + timeout, options.deadline);

  Metadata merged;
  absl::StatusOr<const Metadata*> metadata = CallMetadata(options, merged);
  if (!metadata.ok()) {
    m.counters->Finish(metadata.status().code(), start);
    done(metadata.status(), nullptr);
    return CallHandle();
  }
  absl::StatusOr<std::shared_ptr<UnaryRoute>> call_route =
      CallSubject(m, options);
  if (!call_route.ok()) {
    m.counters->Finish(call_route.status().code(), start);
    done(call_route.status(), nullptr);
    return CallHandle();
  }
  std::optional<RetryPlan> plan;
  const CallRoute route{*std::move(call_route), PlanCall(m, options, plan)};
  TraceContext span = CallSpan(options.trace_parent, *metadata);
  if (options.context != nullptr) {
    options.context->initial_.clear();
    options.context->trailing_.clear();
    options.context->trace_ = TraceContext();
  }
  if (!interceptors_.empty()) {
    return StartIntercepted(m, route, start, request.view(), content_type,
                            *metadata, std::move(span), options.context,
                            deadline, std::move(done));
  }
  Metadata traced;
  const Metadata* sent = WithTrace(span, *metadata, traced);
  if (options.context != nullptr) {
    options.context->trace_ = std::move(span);
    done = FillContext(options.context, std::move(done));
  }
  return Send(m, route, start, content_type, sent, request.view(), deadline,
              std::move(done), /*count=*/true);
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
    const Method& m, const CallRoute& route, absl::Time start,
    absl::string_view payload, absl::string_view content_type,
    const Metadata* metadata, TraceContext span, ClientContext* context,
    absl::Time deadline, RawCallback done) {
  // Counted after the interceptors' OnFinish, as before the mux counted
  // calls: the mux is told not to count these.
  done = [counters = m.counters.get(), start, done = std::move(done)](
             absl::Status status, MessagePtr reply) mutable {
    counters->Finish(status.code(), start);
    done(std::move(status), std::move(reply));
  };
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
    return Send(m, route, start, content_type,
                WithTrace(span, metadata, traced), payload, deadline,
                std::move(done), /*count=*/false);
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
  return Send(
      m, route, start, content_type, sent, payload, deadline,
      [chain = std::move(chain), done = std::move(done)](
          absl::Status status, MessagePtr reply) mutable {
        chain->Finish(status,
                      reply == nullptr ? Metadata() : ResponseMetadata(*reply));
        done(std::move(status), std::move(reply));
      },
      /*count=*/false);
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
  absl::StatusOr<std::string> instance = CallInstance(options);
  if (!instance.ok()) {
    ended->Finish(instance.status());
    return FailedStream(instance.status());
  }
  TraceContext span = CallSpan(options.trace_parent, *metadata);
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
  params.instance = *std::move(instance);
  params.deadline = deadline;
  params.sends = client_sends;
  // Revision 5 (docs/protocol.md 9.5.1): the larger message window once the
  // server shows it honours byte credit; the revision-4 one until then.
  params.window =
      stream_window_ > 0 ? stream_window_ : wire::kDefaultStreamWindowMessages;
  params.legacy_window =
      stream_window_ > 0 ? stream_window_ : wire::kDefaultStreamWindow;
  params.window_bytes = stream_window_bytes_;
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

// ---- Instance targeting, retries, wait-for-ready ----

absl::StatusOr<std::string> ClientChannel::CallInstance(
    const CallOptions& options) const {
  if (options.instance.empty()) return instance_;
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken("CallOptions.instance", options.instance));
  return options.instance;
}

absl::StatusOr<std::shared_ptr<UnaryRoute>> ClientChannel::CallSubject(
    const Method& m, const CallOptions& options) const {
  if (options.instance.empty() || options.instance == instance_) {
    return m.route;
  }
  NATSRPC_RETURN_IF_ERROR(
      wire::ValidateToken("CallOptions.instance", options.instance));
  // A route of its own: whether that instance reads the lean form is
  // learnt again (docs/protocol.md 3.3).
  auto route = std::make_shared<UnaryRoute>();
  route->subject = wire::InstanceRequestSubject(
      requester_, responder_, app_, service_, m.name, options.instance);
  route->counters = m.counters;
  return route;
}

const RetryPlan* ClientChannel::PlanCall(const Method& m,
                                         const CallOptions& options,
                                         std::optional<RetryPlan>& plan) const {
  const RetryPolicy& policy =
      options.retry.has_value() ? *options.retry : retry_;
  const bool retries =
      policy.max_attempts > 1 && (m.idempotent || options.retry_non_idempotent);
  const bool wait_for_ready = options.wait_for_ready.value_or(wait_for_ready_);
  if (!retries && !wait_for_ready) return nullptr;
  plan.emplace(RetryPlan{policy, retries, wait_for_ready});
  return &*plan;
}

CallHandle ClientChannel::Send(const Method& m, const CallRoute& route,
                               absl::Time start, absl::string_view content_type,
                               const Metadata* metadata,
                               absl::string_view payload, absl::Time deadline,
                               RawCallback done, bool count) {
  if (route.plan == nullptr) {
    return mux_->Start(route.route, start, reply_prefix_, content_type,
                       metadata, payload, deadline, std::move(done), count);
  }
  // One call however many attempts: counted here, never by the attempts.
  if (count) {
    done = [counters = m.counters.get(), start, done = std::move(done)](
               absl::Status status, MessagePtr reply) mutable {
      counters->Finish(status.code(), start);
      done(std::move(status), std::move(reply));
    };
  }
  // Every attempt sends the same request: the arguments are copied, since
  // later attempts outlive this call.
  std::optional<Metadata> sent_metadata;
  if (metadata != nullptr) sent_metadata = *metadata;
  RetryingCall::Attempt attempt =
      [mux = std::weak_ptr<ReplyMux>(mux_), route = route.route, start,
       prefix = reply_prefix_, type = std::string(content_type),
       sent_metadata = std::move(sent_metadata), body = std::string(payload),
       deadline](RawCallback done) -> CallHandle {
    std::shared_ptr<ReplyMux> locked = mux.lock();
    if (locked == nullptr) {
      done(absl::CancelledError("the client was destroyed before the reply"),
           nullptr);
      return CallHandle();
    }
    return locked->Start(route, start, prefix, type,
                         sent_metadata.has_value() ? &*sent_metadata : nullptr,
                         body, deadline, std::move(done), /*count=*/false,
                         /*mark_undelivered=*/true);
  };
  return RetryingCall::Start(transport_, *route.plan, deadline,
                             route.route->subject, m.counters,
                             std::move(attempt), std::move(done));
}

ClientStats ClientChannel::stats() const {
  return mux_ == nullptr ? ClientStats() : mux_->stats();
}

}  // namespace internal
}  // namespace natsrpc
