// Copyright 2026 The natsrpc Authors.
//
// ServerCore's registration, unary dispatch, shutdown and counters; its
// streams are in server_streams.cc.

#include "server/server_core.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/connection_state.h"
#include "natsrpc/status_macros.h"
#include "server/inline_policy.h"
#include "server/server_context_access.h"
#include "stream/client_stream.h"
#include "wire/defaults.h"
#include "wire/headers.h"
#include "wire/lean_unary.h"
#include "wire/reply_metadata.h"
#include "wire/schema.h"
#include "wire/status_body.h"

namespace natsrpc {
namespace internal {

absl::Status RequestDecodeError(const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot decode the request: ", status.message()));
}

absl::Status Unimplemented(absl::string_view service,
                           absl::string_view method) {
  return absl::UnimplementedError(absl::StrCat(
      "method ", service, ".", method, " is not implemented by this server"));
}

class ServerCore::CallbackScope {
 public:
  CallbackScope(ServerCore& core, const RegisteredService& reg) : core_(core) {
    absl::MutexLock lock(&core_.mu_);
    // A registration AddService gave up on is not served: its Service may
    // be gone already.
    entered_ = !core_.shutdown_ && reg.registered;
    if (entered_) ++core_.in_callbacks_;
  }
  ~CallbackScope() {
    if (!entered_) return;
    absl::MutexLock lock(&core_.mu_);
    --core_.in_callbacks_;
  }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

  bool entered() const { return entered_; }

 private:
  ServerCore& core_;
  bool entered_;
};

ServerCore::ServerCore(const Connection& connection, ServerOptions options)
    : connection_(connection),
      options_(std::move(options)),
      method_stats_(std::make_shared<MethodStatsInterceptor>()),
      interceptors_([this] {
        std::vector<std::shared_ptr<ServerInterceptor>> all{method_stats_};
        for (const auto& i : options_.interceptors) {
          if (i != nullptr) all.push_back(i);
        }
        return all;
      }()),
      table_(wire::NewClientId()),
      streams_(options_.max_open_streams),
      async_calls_([this](std::shared_ptr<AsyncUnaryCall> call) {
        EndAsync(call, AsyncEnd::kDeadline, {}, {}, {});
      }) {}

ServerCore::~ServerCore() { Shutdown(); }

WorkerPool& ServerCore::pool() {
  if (pool_ == nullptr) {
    const int threads =
        options_.num_workers > 0
            ? options_.num_workers
            : std::max(4,
                       static_cast<int>(std::thread::hardware_concurrency()));
    pool_ = std::make_unique<WorkerPool>(
        threads,
        static_cast<size_t>(std::max(0, options_.max_queued_requests)));
  }
  return *pool_;
}

absl::Status ServerCore::AddService(Service& service) {
  absl::StatusOr<std::shared_ptr<RegisteredService>> reg =
      ServiceRegistry::Prepare(options_, service);
  if (!reg.ok()) return reg.status();
  // Declared before the lock: what a failed registration subscribed is
  // unsubscribed after the lock is released.
  std::unique_ptr<Subscription> made[4];
  absl::MutexLock lock(&mu_);
  if (shutdown_) {
    return absl::FailedPreconditionError(
        "AddService() called after Server::Shutdown()");
  }
  if (draining_) {
    return absl::FailedPreconditionError(
        "AddService() called after Server::Drain()");
  }
  NATSRPC_RETURN_IF_ERROR(registry_.CheckNew(**reg));
  for (auto& [name, method] : (*reg)->methods) {
    method.counters = &method_stats_->Register(
        (*reg)->app, service.service_name(), name, method.handler->kind());
  }
  pool();
  if (!event_listener_.has_value()) {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    event_listener_ = connection_.transport().AddEventListener(
        [weak](const TransportEvent& event) {
          if (auto self = weak.lock()) self->OnTransportEvent(event);
        });
  }
  if (absl::Status s = Subscribe(*reg); !s.ok()) {
    // Nothing stays half-registered. Its callbacks keep `reg` alive until
    // the transport drops them (a cycle otherwise: reg -> subscription ->
    // callback -> reg).
    made[0] = std::move((*reg)->subscription);
    made[1] = std::move((*reg)->cancel_subscription);
    made[2] = std::move((*reg)->instance_subscription);
    made[3] = std::move((*reg)->all_subscription);
    return s;
  }
  (*reg)->registered = true;
  (*reg)->started = absl::Now();
  registry_.Add(*std::move(reg));
  if (options_.discovery) EnableDiscovery();
  return absl::OkStatus();
}

absl::Status ServerCore::SubscribeError(absl::string_view subject,
                                        const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat("cannot subscribe to ", subject, ": ", status.message()));
}

absl::Status ServerCore::Subscribe(
    const std::shared_ptr<RegisteredService>& reg) {
  Transport& transport = connection_.transport();
  const absl::string_view name = reg->service->service_name();
  std::weak_ptr<ServerCore> weak = weak_from_this();
  // The callbacks share the registration: one may still run after a failed
  // AddService returned (CallbackScope drops its message then).
  const std::string requests =
      wire::ServiceWildcard(options_.responder, reg->app, name);
  absl::StatusOr<std::unique_ptr<Subscription>> sub = transport.Subscribe(
      requests, reg->queue, [weak, reg](MessagePtr m, Delivery& delivery) {
        if (auto self = weak.lock()) {
          self->OnRequest(*reg, std::move(m), delivery);
        }
      });
  if (!sub.ok()) return SubscribeError(requests, sub.status());
  reg->subscription = *std::move(sub);
  const std::string cancels =
      wire::CancelWildcard(options_.responder, reg->app, name);
  absl::StatusOr<std::unique_ptr<Subscription>> cancel_sub =
      transport.Subscribe(cancels, "", [weak](MessagePtr m) {
        if (auto self = weak.lock()) self->OnCancel(*m);
      });
  if (!cancel_sub.ok()) return SubscribeError(cancels, cancel_sub.status());
  reg->cancel_subscription = *std::move(cancel_sub);
  NATSRPC_RETURN_IF_ERROR(SubscribeInstance(reg));
  NATSRPC_RETURN_IF_ERROR(SubscribeAll(reg));
  if (reg->has_streams) NATSRPC_RETURN_IF_ERROR(EnableStreams(reg->app));
  const std::string owner = absl::StrCat("service ", reg->app, ".", name);
  absl::MutexLock lock(&events_mu_);
  subject_owners_[requests] = owner;
  subject_owners_[cancels] = owner;
  return absl::OkStatus();
}

absl::Status ServerCore::SubscribeInstance(
    const std::shared_ptr<RegisteredService>& reg) {
  std::weak_ptr<ServerCore> weak = weak_from_this();
  const std::string subject = wire::InstanceWildcard(
      options_.responder, reg->app, reg->service->service_name(),
      table_.instance_id());
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      connection_.transport().Subscribe(
          subject, "", [weak, reg](MessagePtr m, Delivery& delivery) {
            if (auto self = weak.lock()) {
              self->OnInstanceRequest(*reg, std::move(m), delivery);
            }
          });
  if (!sub.ok()) return SubscribeError(subject, sub.status());
  reg->instance_subscription = *std::move(sub);
  absl::MutexLock lock(&events_mu_);
  subject_owners_[subject] =
      absl::StrCat("instance calls of service ", reg->app, ".",
                   reg->service->service_name());
  return absl::OkStatus();
}

absl::Status ServerCore::EnableStreams(const std::string& app) {
  if (!stream_subscriptions_.contains(app)) {
    std::weak_ptr<ServerCore> weak = weak_from_this();
    const std::string subject =
        wire::StreamWildcard(options_.responder, app, table_.instance_id());
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        connection_.transport().Subscribe(subject, "", [weak](MessagePtr m) {
          if (auto self = weak.lock()) {
            self->table_.RouteStreamMessage(std::move(m));
          }
        });
    if (!sub.ok()) return SubscribeError(subject, sub.status());
    stream_subscriptions_.emplace(app, *std::move(sub));
    absl::MutexLock lock(&events_mu_);
    subject_owners_[subject] = absl::StrCat("streams of app ", app);
  }
  streams_.StartTicker([this] { table_.TickAll(); }, wire::kStreamTickPeriod);
  return absl::OkStatus();
}

void ServerCore::OnTransportEvent(const TransportEvent& event) {
  if (event.kind != TransportEvent::Kind::kPermissionDenied || event.publish) {
    return;
  }
  absl::MutexLock lock(&events_mu_);
  if (discovery_subjects_.contains(event.subject)) {
    if (discovery_status_.ok()) {
      discovery_status_ = absl::PermissionDeniedError(absl::StrCat(
          "NATS refused the subscription to ", event.subject,
          " (discovery and health of responder ", options_.responder,
          "; calls are still served): ", event.message));
      std::fprintf(stderr, "natsrpc server: %s\n",
                   std::string(discovery_status_.message()).c_str());
    }
    return;
  }
  auto it = subject_owners_.find(event.subject);
  if (it == subject_owners_.end()) return;
  refused_.insert(event.subject);
  permission_errors_.fetch_add(1, std::memory_order_relaxed);
  health_ = absl::PermissionDeniedError(absl::StrCat(
      "NATS refused the subscription to ", event.subject, " (", it->second,
      " of responder ", options_.responder, "): ", event.message));
  // One line per event: the server keeps running, deaf on that subject.
  std::fprintf(stderr, "natsrpc server: %s\n",
               std::string(health_.message()).c_str());
}

absl::Status ServerCore::health() const {
  {
    absl::MutexLock lock(&events_mu_);
    if (!health_.ok()) return health_;
  }
  absl::MutexLock lock(&mu_);
  if (shutdown_) return absl::UnavailableError("the server was shut down");
  if (draining_) return absl::UnavailableError("the server is draining");
  return absl::OkStatus();
}

void ServerCore::Drain() {
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  {
    absl::MutexLock lock(&mu_);
    if (draining_) return;
    draining_ = true;
    subscriptions = registry_.TakeRequestSubscriptions();
  }
  // Outside the mutex: a callback that runs now may need it.
  subscriptions.clear();
}

void ServerCore::OnRequest(const RegisteredService& reg, MessagePtr message,
                           Delivery& delivery) {
  CallbackScope scope(*this, reg);
  if (!scope.entered()) return;
  received_.fetch_add(1, std::memory_order_relaxed);
  Dispatch(reg, std::move(message), delivery);
}

void ServerCore::OnInstanceRequest(const RegisteredService& reg,
                                   MessagePtr message, Delivery& delivery) {
  CallbackScope scope(*this, reg);
  if (!scope.entered()) return;
  received_.fetch_add(1, std::memory_order_relaxed);
  absl::string_view instance;
  absl::StatusOr<wire::RequestSubjectParts> parts =
      wire::ParseInstanceRequestSubject(message->subject(), instance);
  if (parts.ok() && instance != table_.instance_id()) {
    parts = absl::InvalidArgumentError("addressed to another instance");
  }
  DispatchParsed(reg, std::move(message), parts, delivery);
}

// Every instance (docs/protocol.md 13); the rest is in server_fanout.cc.
void ServerCore::OnAllRequest(const RegisteredService& reg, MessagePtr message,
                              Delivery& delivery) {
  CallbackScope scope(*this, reg);
  if (!scope.entered()) return;
  received_.fetch_add(1, std::memory_order_relaxed);
  const absl::StatusOr<wire::RequestSubjectParts> parts =
      wire::ParseAllRequestSubject(message->subject());
  if (parts.ok() && message->header_status().ok() &&
      message->header(wire::kStreamHeader).has_value()) {
    // A stream has one server end; every instance cannot accept it.
    invalid_.fetch_add(1, std::memory_order_relaxed);
    if (wire::CheckReplySubject(message->reply(), *parts).ok()) {
      Refuse(*message, absl::InvalidArgumentError(absl::StrCat(
                           "a stream cannot be opened on every instance (",
                           message->subject(), ")")));
    }
    return;
  }
  DispatchParsed(reg, std::move(message), parts, delivery);
}

void ServerCore::Dispatch(const RegisteredService& reg, MessagePtr message,
                          Delivery& delivery) {
  // The parts view the subject: parsed before the message moves on.
  const absl::StatusOr<wire::RequestSubjectParts> parts =
      wire::ParseRequestSubject(message->subject());
  DispatchParsed(reg, std::move(message), parts, delivery);
}

void ServerCore::DispatchParsed(
    const RegisteredService& reg, MessagePtr message,
    const absl::StatusOr<wire::RequestSubjectParts>& parts,
    Delivery& delivery) {
  // An event has no reply-to (docs/protocol.md 13).
  if (parts.ok() && message->reply().empty() &&
      DispatchEvent(reg, message, *parts, delivery)) {
    return;
  }
  if (!parts.ok() || !wire::CheckReplySubject(message->reply(), *parts).ok()) {
    // Answering would let a caller aim our replies at someone else's
    // response space (protocol section 5): drop it.
    bad_reply_to_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A header block that does not parse hides every header, the deadline
  // and the stream kind included: answer it rather than serve it without
  // them (docs/protocol.md section 3).
  if (absl::Status headers = message->header_status(); !headers.ok()) {
    invalid_.fetch_add(1, std::memory_order_relaxed);
    Reply(*message, headers, {}, {}, nullptr);
    return;
  }
  // An open is refused with an `end`, a unary request with an error reply
  // (docs/protocol.md 9.3.2, 4): which one it is decides how every check
  // below answers.
  bool open = false;
  if (std::optional<absl::string_view> frame =
          message->header(wire::kStreamHeader)) {
    if (*frame != wire::StreamFrameName(wire::StreamFrame::kOpen)) {
      // Only opens belong on a method subject. The reply-to names the
      // caller's call: end it at once rather than let it wait out its
      // deadline (docs/protocol.md 9.3.2).
      invalid_.fetch_add(1, std::memory_order_relaxed);
      if (!RefuseStream(connection_.transport(), *message,
                        absl::InvalidArgumentError(absl::StrCat(
                            wire::kStreamHeader, " \"", absl::CEscape(*frame),
                            "\" on the method subject ", message->subject(),
                            ": only \"open\" belongs there")))
               .ok()) {
        publish_errors_.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    open = true;
  }
  auto refuse = [&](const absl::Status& status) {
    if (open) {
      Refuse(*message, status);
    } else {
      Reply(*message, status, {}, {}, nullptr);
    }
  };
  absl::Time deadline = absl::InfiniteFuture();
  if (std::optional<absl::string_view> t =
          message->header(wire::kTimeoutHeader)) {
    absl::StatusOr<absl::Duration> timeout = wire::DecodeTimeout(*t);
    if (!timeout.ok()) {
      invalid_.fetch_add(1, std::memory_order_relaxed);
      refuse(timeout.status());
      return;
    }
    if (*timeout <= absl::ZeroDuration()) {
      expired_.fetch_add(1, std::memory_order_relaxed);
      refuse(absl::DeadlineExceededError(
          "the request arrived after its deadline"));
      return;
    }
    deadline = absl::Now() + *timeout;
  } else if (std::optional<absl::Duration> lean =
                 open ? std::nullopt
                      : wire::LeanTimeoutOfReplyTo(message->reply())) {
    // Revision 5's lean form: the timeout is in the reply-to
    // (docs/protocol.md 3.3).
    if (*lean <= absl::ZeroDuration()) {
      expired_.fetch_add(1, std::memory_order_relaxed);
      refuse(absl::DeadlineExceededError(
          "the request arrived after its deadline"));
      return;
    }
    deadline = absl::Now() + *lean;
  }
  auto it = reg.methods.find(parts->method);
  if (it == reg.methods.end() && parts->method == wire::kSchemaMethod) {
    if (open) {
      unknown_method_.fetch_add(1, std::memory_order_relaxed);
      Refuse(*message,
             absl::UnimplementedError(
                 "a schema request is a unary request, not a stream"));
      return;
    }
    ReplySchema(reg, *message);
    return;
  }
  if (it == reg.methods.end()) {
    unknown_method_.fetch_add(1, std::memory_order_relaxed);
    refuse(absl::UnimplementedError(
        absl::StrCat("service ", reg.app, ".", reg.service->service_name(),
                     " has no method \"", absl::CEscape(parts->method), "\"")));
    return;
  }
  const RegisteredMethod& method = it->second;
  if (open) {
    OpenStream(reg, method.handler, std::move(message), *parts, deadline);
    return;
  }
  if (method.handler->kind() != MethodKind::kUnary) {
    unknown_method_.fetch_add(1, std::memory_order_relaxed);
    Reply(*message,
          absl::UnimplementedError(absl::StrCat(
              "method ", reg.service->service_name(), ".", parts->method,
              " is a streaming method; a unary request cannot call it")),
          {}, {}, nullptr);
    return;
  }
  DispatchUnary(reg, method, std::move(message), *parts, deadline, delivery);
}

void ServerCore::DispatchUnary(const RegisteredService& reg,
                               const RegisteredMethod& method,
                               MessagePtr message,
                               const wire::RequestSubjectParts& parts,
                               absl::Time deadline, Delivery& delivery) {
  // A cancel (protocol 9.8) finds the call by its reply-to until it ends.
  auto state = std::make_shared<CallState>();
  table_.AddCall(message->reply(), [state] {
    state->cancelled.store(true, std::memory_order_release);
  });
  if (RunOnDeliveryThread(*method.timing, options_.run_fast_handlers_inline,
                          delivery, *pool_)) {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    {
      InFlight in_flight(in_flight_);
      Serve(reg, method, std::move(message), parts, deadline, *state,
            &delivery);
    }
    pool_->LeaveSlot();
    return;
  }
  WorkerPool::Task task = [this, &reg, &method, message, p = parts, deadline,
                           state](bool run) mutable {
    method.counters->queued.fetch_sub(1, std::memory_order_relaxed);
    InFlight in_flight(in_flight_);
    if (!run) {
      table_.RemoveCall(message->reply());
      Reply(*message, absl::UnavailableError("the server is shutting down"), {},
            {}, nullptr);
      return;
    }
    Serve(reg, method, std::move(message), p, deadline, *state,
          /*delivery=*/nullptr);
  };
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  method.counters->queued.fetch_add(1, std::memory_order_relaxed);
  if (!pool_->TrySubmit(task)) {
    table_.RemoveCall(message->reply());
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    method.counters->queued.fetch_sub(1, std::memory_order_relaxed);
    method.counters->resource_exhausted.fetch_add(1, std::memory_order_relaxed);
    overloaded_.fetch_add(1, std::memory_order_relaxed);
    Reply(*message,
          absl::ResourceExhaustedError(absl::StrCat(
              "server ", options_.responder, " is overloaded: ",
              options_.max_queued_requests, " requests already queued")),
          {}, {}, nullptr);
  }
}

void ServerCore::ReplySchema(const RegisteredService& reg,
                             const IncomingMessage& request) {
  schema_requests_.fetch_add(1, std::memory_order_relaxed);
  const ServiceSchema& schema = reg.service->schema_;
  const absl::string_view encoding = wire::SchemaEncodingName(schema.encoding);
  if (encoding.empty()) {
    Reply(request,
          absl::NotFoundError(absl::StrCat(
              "service ", reg.app, ".", reg.service->service_name(),
              " has no schema (hand-written, or generated by a "
              "protoc-gen-natsrpc older than 0.3)")),
          {}, {}, nullptr);
    return;
  }
  const HeaderRef headers[] = {
      {wire::kSchemaEncodingHeader, encoding},
      {wire::kSchemaServiceHeader, schema.full_name},
  };
  absl::Status s =
      connection_.transport().Publish(OutgoingMessage{request.reply(),
                                                      {},
                                                      headers,
                                                      nullptr,
                                                      schema.bytes,
                                                      FlushPolicy::kBatch});
  if (s.ok()) return;
  publish_errors_.fetch_add(1, std::memory_order_relaxed);
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    Reply(request,
          absl::ResourceExhaustedError(
              absl::StrCat("the schema does not fit: ", s.message())),
          {}, {}, nullptr);
  }
}

void ServerCore::OnCancel(const IncomingMessage& message) {
  if (table_.RouteCancel(message)) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
  }
}

CallInfo ServerCore::MakeCallInfo(const wire::RequestSubjectParts& parts,
                                  MethodKind kind, absl::Time deadline) const {
  CallInfo call;
  call.requester = parts.requester;
  call.responder = parts.responder;
  call.app = parts.app;
  call.service = parts.service;
  call.method = parts.method;
  call.kind = kind;  // MethodKind is CallKind (natsrpc/impl/method_handler.h)
  call.deadline = deadline;
  return call;
}

void ServerCore::Serve(const RegisteredService& reg,
                       const RegisteredMethod& method, MessagePtr message,
                       const wire::RequestSubjectParts& parts,
                       absl::Time deadline, const CallState& state,
                       Delivery* delivery) {
  if (state.cancelled.load(std::memory_order_acquire)) {
    // Cancelled while queued: the caller is gone, nothing is sent.
    table_.RemoveCall(message->reply());
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (deadline <= absl::Now()) {
    table_.RemoveCall(message->reply());
    expired_.fetch_add(1, std::memory_order_relaxed);
    Reply(*message,
          absl::DeadlineExceededError(
              "the request's deadline passed while it waited for a worker"),
          {}, {}, nullptr);
    return;
  }
  const IncomingMessage& request = *message;
  ServerCallInterceptors interceptors;
  CallInfo call = MakeCallInfo(parts, MethodKind::kUnary, deadline);
  if (wire::IsAllRequestSubject(request.subject())) {
    call.pattern = CallPattern::kGather;
  }
  // interceptors_[0] is method_stats_; the method's counters are at hand.
  if (absl::Status s =
          interceptors.Start(interceptors_, /*builtins=*/1, call, request,
                             MethodStatsInterceptor::Count(*method.counters));
      !s.ok()) {
    table_.RemoveCall(request.reply());
    Metadata response;
    interceptors.Finish(s, response);
    Metadata sendable;
    wire::AppendMetadata(response, {}, sendable);
    Reply(request, s, {}, {}, sendable.empty() ? nullptr : &sendable);
    return;
  }
  handled_.fetch_add(1, std::memory_order_relaxed);
  if (method.handler->async()) {
    // natsrpc/async.h: the call ends when its handler finishes it.
    ServeAsync(reg, method, std::move(message), parts, deadline, state,
               std::move(interceptors), delivery);
    return;
  }
  ServerContext context(message, parts.requester, parts.responder, parts.app,
                        parts.service, parts.method, deadline);
  ServerContextAccess::SetCancelFlag(context, &state.cancelled);
  if (interceptors.trace().valid()) {
    ServerContextAccess::SetTrace(context, interceptors.trace());
  }
  Payload reply;
  absl::string_view content_type;
  const absl::Time start = absl::Now();
  absl::Status status;
  if (context.trace_context().valid()) {
    // The handler's nested calls are children of this call's span.
    ScopedTraceContext current(context.trace_context());
    status = RunHandler(reg, method, context, message, reply, content_type,
                        delivery);
  } else {
    status = RunHandler(reg, method, context, message, reply, content_type,
                        delivery);
  }
  method.timing->Record(absl::Now() - start);
  table_.RemoveCall(request.reply());
  if (state.cancelled.load(std::memory_order_acquire)) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    Metadata unsent;
    interceptors.Finish(absl::CancelledError("the caller cancelled the call"),
                        unsent);
    return;
  }
  Metadata response = context.response_metadata();
  interceptors.Finish(status, response);
  // Revision 4: initial metadata as plain headers, trailers prefixed
  // (wire/reply_metadata.h).
  Metadata extra;
  wire::AppendMetadata(context.initial_metadata(), {}, extra);
  wire::AppendMetadata(response, {}, extra);
  wire::AppendMetadata(context.trailing_metadata(), wire::kTrailerPrefix,
                       extra);
  AppendGatherEnd(context, extra);
  Reply(request, status, status.ok() ? reply.view() : absl::string_view(),
        content_type, extra.empty() ? nullptr : &extra,
        ReplyFlushPolicy(*pool_, in_flight_.load(std::memory_order_relaxed),
                         delivery));
}

absl::Status ServerCore::RunHandler(const RegisteredService& reg,
                                    const RegisteredMethod& method,
                                    ServerContext& context,
                                    const MessagePtr& message, Payload& reply,
                                    absl::string_view& content_type,
                                    Delivery* delivery) {
  try {
    // The handler may call other services and wait for their replies.
    MayBlockScope may_block(delivery);
    return method.handler->Run(*reg.service, context, message, reply,
                               content_type);
  } catch (const std::exception& e) {
    return absl::UnknownError(
        absl::StrCat("handler of ", reg.service->service_name(), ".",
                     context.method(), " threw: ", e.what()));
  } catch (...) {
    return absl::UnknownError(
        absl::StrCat("handler of ", reg.service->service_name(), ".",
                     context.method(), " threw a non-standard exception"));
  }
}

void ServerCore::Reply(const IncomingMessage& request,
                       const absl::Status& status, absl::string_view payload,
                       absl::string_view content_type, const Metadata* metadata,
                       FlushPolicy flush) {
  // At most: two error headers, Natsrpc-Revision, Natsrpc-Instance.
  std::array<HeaderRef, 4> headers;
  size_t n = 0;
  const wire::StatusHeaders error(status);
  // Revision 5 (docs/protocol.md 3.3): no Content-Type in answer to a lean
  // request; `Natsrpc-Revision: 5` to a request that asks whether we read
  // that form.
  const bool lean = wire::IsLeanReplyTo(request.reply());
  // A reply to every instance names the instance (docs/protocol.md 13).
  const bool all = wire::IsAllRequestSubject(request.subject());
  // Revision 3: the exact status (message bytes, payloads) in the body.
  std::string body;
  if (status.ok()) {
    if (!content_type.empty() && !lean) {
      headers[n++] = HeaderRef{wire::kContentTypeHeader, content_type};
    }
  } else {
    n = error.WriteTo(headers.data());
    body = wire::EncodeStatusBody(status);
    payload = body;
  }
  if (!lean && wire::ReadsLeanUnary(request.header(wire::kRevisionHeader))) {
    headers[n++] =
        HeaderRef{wire::kRevisionHeader, wire::kLeanUnaryRevisionValue};
  }
  if (all) headers[n++] = HeaderRef{wire::kInstanceHeader, instance_id()};
  absl::Status s = connection_.transport().Publish(
      OutgoingMessage{request.reply(),
                      {},
                      absl::MakeConstSpan(headers.data(), n),
                      metadata,
                      payload,
                      flush});
  if (s.ok()) return;
  if (!body.empty() && s.code() == absl::StatusCode::kResourceExhausted) {
    // The exact status does not fit: its headers still tell the caller.
    s = connection_.transport().Publish(
        OutgoingMessage{request.reply(),
                        {},
                        absl::MakeConstSpan(headers.data(), n),
                        metadata,
                        {},
                        flush});
    if (s.ok()) return;
  }
  publish_errors_.fetch_add(1, std::memory_order_relaxed);
  if (status.ok() && s.code() == absl::StatusCode::kResourceExhausted) {
    // The reply is too large for NATS: tell the caller instead of letting it
    // time out.
    Reply(request,
          absl::ResourceExhaustedError(
              absl::StrCat("the reply does not fit: ", s.message())),
          {}, {}, nullptr);
  }
}

void ServerCore::Shutdown() {
  Drain();
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  std::optional<uint64_t> listener;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    subscriptions = registry_.TakeSubscriptions();
    for (auto& sub : discovery_subscriptions_) {
      subscriptions.push_back(std::move(sub));
    }
    discovery_subscriptions_.clear();
    listener.swap(event_listener_);
  }
  if (listener.has_value()) {
    connection_.transport().RemoveEventListener(*listener);
  }
  subscriptions.clear();
  {
    absl::MutexLock lock(&mu_);
    // Callbacks that already started finish; no new one gets past the flag.
    mu_.Await(absl::Condition(
        +[](ServerCore* c) {
          c->mu_.AssertReaderHeld();
          return c->in_callbacks_ == 0;
        },
        this));
  }
  // Open streams end with UNAVAILABLE; their handlers see the cancellation.
  table_.CancelAll(absl::UnavailableError("the server is shutting down"));
  // Waits for every stream handler and joins its thread, and the ticker's.
  streams_.StopAndJoin();
  absl::flat_hash_map<std::string, std::unique_ptr<Subscription>> streams;
  {
    absl::MutexLock lock(&mu_);
    streams.swap(stream_subscriptions_);
  }
  streams.clear();
  if (pool_ != nullptr) pool_->Stop();
  // After the workers: no handler starts an asynchronous call any more.
  EndAllAsync();
}

ServerStats ServerCore::stats() const {
  ServerStats s;
  s.requests_received = received_.load(std::memory_order_relaxed);
  s.requests_handled = handled_.load(std::memory_order_relaxed);
  s.rejected_overloaded = overloaded_.load(std::memory_order_relaxed);
  s.rejected_expired = expired_.load(std::memory_order_relaxed);
  s.rejected_invalid = invalid_.load(std::memory_order_relaxed);
  s.unknown_method = unknown_method_.load(std::memory_order_relaxed);
  s.dropped_bad_reply_to = bad_reply_to_.load(std::memory_order_relaxed);
  s.reply_publish_errors = publish_errors_.load(std::memory_order_relaxed);
  s.cancelled = cancelled_.load(std::memory_order_relaxed);
  s.streams_accepted = streams_accepted_.load(std::memory_order_relaxed);
  s.streams_refused = streams_refused_.load(std::memory_order_relaxed);
  s.streams_open = table_.open_streams();
  s.permission_errors = permission_errors_.load(std::memory_order_relaxed);
  s.schema_requests = schema_requests_.load(std::memory_order_relaxed);
  s.events_handled = events_handled_.load(std::memory_order_relaxed);
  s.events_failed = events_failed_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace internal
}  // namespace natsrpc
